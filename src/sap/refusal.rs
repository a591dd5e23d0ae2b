//! Reading the business cause out of SAP's refusal texts (reference §8, "Common permanent
//! errors"), so an exception goes to the team that can fix it instead of landing in the
//! integration team's `sap_rejected` pile. Only texts the reference quotes (or the simulator's
//! stand-ins for texts the reference could not find) are recognised; anything else stays a
//! plain rejection.
use super::error::SapError;
use crate::domain::posting::OrderRefusal;

/// SAP's code for "Cannot add row without complete selection of batch/serial numbers".
const CODE_SERIAL_BATCH: i64 = -4014;

/// The cause of a permanent refusal of `POST /Orders`, when SAP's text shows it.
pub fn order_refusal(error: &SapError) -> Option<OrderRefusal> {
    let SapError::Permanent { code, message, .. } = error else {
        return None;
    };
    let lower = message.to_lowercase();
    if *code == Some(CODE_SERIAL_BATCH) || lower.contains("batch/serial numbers") {
        return Some(OrderRefusal::SerialBatchRequired);
    }
    // "(-10) 10001069 - Item XYZ is inactive" (KBA2693418); B1 reports frozen items alike.
    if let Some(item) = between(message, "Item ", " is inactive") {
        return Some(OrderRefusal::ItemNotSellable {
            item_code: Some(item),
        });
    }
    // The real text for a non-sales item was not found; the simulator quotes the code.
    if lower.contains("not a sales item") {
        return Some(OrderRefusal::ItemNotSellable {
            item_code: last_quoted(message),
        });
    }
    // The real text for an unknown ItemCode was not found; B1's "[field][line: n] , 'value'"
    // pattern on `ItemCode` is what the simulator sends.
    if lower.contains("invalid item code") || lower.contains("[documentlines.itemcode]") {
        return Some(OrderRefusal::UnknownItem {
            item_code: last_quoted(message),
        });
    }
    // "Invalid BP code [OPDN.CardCode] , 'P2060…'" (anecdotal, real SL).
    if lower.contains("invalid bp code") {
        return Some(OrderRefusal::CustomerRefused {
            card_code: last_quoted(message),
        });
    }
    // "(-10) 10001071 - Customer 123 is inactive" (KBA2693418).
    if let Some(card) = between(message, "Customer ", " is inactive") {
        return Some(OrderRefusal::CustomerRefused {
            card_code: Some(card),
        });
    }
    // "-5002 - 10000156 - Posting Date deviates from the defined range" (field report of a
    // real B1 answer): the date is outside every open posting period.
    if message.contains("10000156") || lower.contains("deviates from the defined range") {
        return Some(OrderRefusal::PostingPeriodClosed { date: None });
    }
    if message.contains("DocTotal") {
        return Some(OrderRefusal::DocTotalRefused);
    }
    None
}

/// SAP refused to create a Business Partner because its CardCode exists ("1320000140 -
/// Business partner code 'c1' already assigned …", GUIDE p.23).
pub fn is_duplicate_card_code(error: &SapError) -> bool {
    matches!(error, SapError::Permanent { message, .. }
        if message.to_lowercase().contains("already assigned"))
}

/// The text between `start` and `end` when it is one word (an ItemCode or CardCode).
fn between(message: &str, start: &str, end: &str) -> Option<String> {
    let from = message.find(start)? + start.len();
    let to = from + message[from..].find(end)?;
    let word = message[from..to].trim().trim_matches('\'');
    (!word.is_empty() && !word.contains(char::is_whitespace)).then(|| word.to_owned())
}

/// The last `'…'` in the message: B1 puts the offending value there.
fn last_quoted(message: &str) -> Option<String> {
    let end = message.rfind('\'')?;
    let start = message[..end].rfind('\'')?;
    Some(message[start + 1..end].to_owned()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: i64, message: &str) -> Option<OrderRefusal> {
        order_refusal(&SapError::Permanent {
            status: 400,
            code: Some(code),
            message: message.into(),
        })
    }

    #[test]
    fn the_reference_texts_name_their_cause_and_value() {
        assert_eq!(
            refused(-10, "(-10) 10001069 - Item XYZ is inactive"),
            Some(OrderRefusal::ItemNotSellable {
                item_code: Some("XYZ".into())
            })
        );
        assert_eq!(
            refused(-10, "(-10) 10001071 - Customer 123 is inactive"),
            Some(OrderRefusal::CustomerRefused {
                card_code: Some("123".into())
            })
        );
        assert_eq!(
            refused(-10, "Invalid BP code [OPDN.CardCode] , 'P20609988771'"),
            Some(OrderRefusal::CustomerRefused {
                card_code: Some("P20609988771".into())
            })
        );
        assert_eq!(
            refused(
                -4014,
                "Cannot add row without complete selection of batch/serial numbers"
            ),
            Some(OrderRefusal::SerialBatchRequired)
        );
    }

    #[test]
    fn the_simulators_stand_in_texts_are_recognised() {
        assert_eq!(
            refused(
                -10,
                "Invalid item code [DocumentLines.ItemCode][line: 2] , 'MH99-X'"
            ),
            Some(OrderRefusal::UnknownItem {
                item_code: Some("MH99-X".into())
            })
        );
        assert_eq!(
            refused(
                -10,
                "Item 'PKG-CARTON-M' is not a sales item [DocumentLines.ItemCode][line: 1]"
            ),
            Some(OrderRefusal::ItemNotSellable {
                item_code: Some("PKG-CARTON-M".into())
            })
        );
        assert_eq!(
            refused(
                -10,
                "Document total 10 differs from the calculated total 12 by 1.00 or more [ORDR.DocTotal]"
            ),
            Some(OrderRefusal::DocTotalRefused)
        );
    }

    #[test]
    fn other_refusals_and_other_failures_have_no_business_cause() {
        assert_eq!(
            refused(-10, "(-10) 10000180 - Specify valid tax code"),
            None
        );
        assert_eq!(
            order_refusal(&SapError::Locked {
                code: Some(-2039),
                message: "Item X is inactive".into()
            }),
            None
        );
    }

    #[test]
    fn a_taken_card_code_is_recognised() {
        let e = SapError::Permanent {
            status: 400,
            code: Some(-10),
            message: "1320000140 - Business partner code 'c1' already assigned to a business partner; enter a unique business partner code".into(),
        };
        assert!(is_duplicate_card_code(&e));
    }
}
