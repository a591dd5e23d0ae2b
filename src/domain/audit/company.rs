//! Company: the local currency; today's exchange rate for each currency the store takes;
//! a usable numbering series for Sales Orders and A/R credit memos; an open posting period
//! for today; and whether approval procedures turn API orders into drafts.
use super::facts::{CompanyRead, PeriodProbe, SapSeries};
use super::{Check, Finding, Severity};

pub fn check(read: &CompanyRead) -> Vec<Finding> {
    let mut findings = vec![Finding::new(
        Severity::Info,
        Check::Company,
        format!("local currency {}", read.local_currency),
        format!(
            "SAP B1 books in {}; orders in another currency are foreign-currency documents \
             booked at the day's rate.",
            read.local_currency
        ),
        "",
    )];
    for (currency, rate) in &read.rates_today {
        if let Err(said) = rate {
            findings.push(Finding::new(
                Severity::Blocking,
                Check::Company,
                format!("exchange rate {currency}"),
                format!(
                    "SAP B1 has no {currency} rate for today ({said}): every {currency} order \
                     placed today would be refused."
                ),
                format!("enter today's {currency} rate in SAP B1 (Exchange Rates and Indexes), every day"),
            ));
        }
    }
    series(
        &mut findings,
        "Sales Orders",
        &read.order_series,
        Severity::Blocking,
    );
    series(
        &mut findings,
        "A/R credit memos",
        &read.credit_note_series,
        Severity::Warning,
    );
    match &read.period_today {
        PeriodProbe::Open => {}
        PeriodProbe::Closed { message } => findings.push(Finding::new(
            Severity::Blocking,
            Check::Company,
            "posting period of today",
            format!("SAP B1 refuses a document dated today: {message}"),
            "open (unlock) today's posting period in SAP B1 (Posting Periods)",
        )),
        PeriodProbe::Unknown { reason } => findings.push(Finding::new(
            Severity::Warning,
            Check::Company,
            "posting period of today",
            format!("Whether today's posting period is open could not be checked: {reason}"),
            "check Posting Periods in SAP B1",
        )),
    }
    if read.approvals_in_api == Some(true) {
        findings.push(Finding::new(
            Severity::Warning,
            Check::Company,
            "approval procedures",
            "Approval procedures apply to documents added through the Service Layer \
             (EnableApprovalProcedureInDI): an order that meets a procedure's terms becomes a \
             draft awaiting approval, raised as approval_pending, and reaches SAP B1 as an order \
             only when an approver approves it.",
            "exempt the integration user from the procedures for Sales Orders, or plan for \
             approvers to watch the drafts",
        ));
    }
    findings
}

fn series(
    findings: &mut Vec<Finding>,
    what: &str,
    read: &Result<Vec<SapSeries>, String>,
    severity: Severity,
) {
    let object = format!("numbering series of {what}");
    match read {
        Err(reason) => findings.push(Finding::new(
            Severity::Warning,
            Check::Company,
            object,
            format!("SAP B1 did not list the series: {reason}"),
            "check Document Numbering in SAP B1",
        )),
        Ok(list) if !list.iter().any(|s| s.usable) => {
            let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
            findings.push(Finding::new(
                severity,
                Check::Company,
                object,
                format!(
                    "No series can number a new document (locked or used up: {}): SAP B1 would \
                     refuse every one.",
                    if names.is_empty() {
                        "none defined".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
                "unlock the series or add one in SAP B1 (Document Numbering)",
            ));
        }
        Ok(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn read() -> CompanyRead {
        CompanyRead {
            local_currency: "GBP".into(),
            rates_today: vec![("EUR".into(), Ok(dec!(0.86)))],
            order_series: Ok(vec![SapSeries {
                name: "Primary".into(),
                usable: true,
            }]),
            credit_note_series: Ok(vec![SapSeries {
                name: "Primary".into(),
                usable: true,
            }]),
            period_today: PeriodProbe::Open,
            approvals_in_api: Some(false),
        }
    }

    #[test]
    fn a_sound_company_gives_only_its_currency_and_each_problem_its_finding() {
        let f = check(&read());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        let bad = CompanyRead {
            rates_today: vec![("EUR".into(), Err("no rate".into()))],
            order_series: Ok(vec![SapSeries {
                name: "Primary".into(),
                usable: false,
            }]),
            period_today: PeriodProbe::Closed {
                message: "10000156".into(),
            },
            approvals_in_api: Some(true),
            ..read()
        };
        let f = check(&bad);
        let sev: Vec<(Severity, &str)> =
            f.iter().map(|x| (x.severity, x.object.as_str())).collect();
        assert_eq!(
            sev,
            vec![
                (Severity::Info, "local currency GBP"),
                (Severity::Blocking, "exchange rate EUR"),
                (Severity::Blocking, "numbering series of Sales Orders"),
                (Severity::Blocking, "posting period of today"),
                (Severity::Warning, "approval procedures"),
            ]
        );
    }
}
