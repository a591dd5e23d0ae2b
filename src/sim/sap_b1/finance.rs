//! The company's financial rules a sales document meets before it is booked: the tax field
//! of its localization, the exchange rate of a foreign currency on the document's day, the
//! partner's currency, and the posting period of its dates (docs/sap-document-calculation.md).
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::company::Company;
use super::errors::ServiceLayerError;
use super::seed::{Localization, PeriodStatus};

/// SAP's "all currencies" partner currency.
const ALL_CURRENCIES: &str = "##";

impl Company {
    /// The rate (percent) of a line's or freight's tax code, read from the field of the
    /// company's localization. The other field is refused, as SAP refuses it (KBA 2693418
    /// quotes both refusals); a line with neither is booked untaxed (B1 would derive a code
    /// from the item or the partner, which the seed does not model).
    pub fn tax_rate(
        &self,
        tax_code: Option<&str>,
        vat_group: Option<&str>,
        day: NaiveDate,
    ) -> Result<Decimal, ServiceLayerError> {
        let invalid_vat_group = || {
            ServiceLayerError::business(format!(
                "Invalid VAT Group [DocumentLines.VatGroup] , '{}'",
                vat_group.unwrap_or_default()
            ))
        };
        let invalid_tax_code = || ServiceLayerError::business("10000180 - Specify valid tax code");
        match (self.localization, tax_code, vat_group) {
            (_, None, None) => Ok(Decimal::ZERO),
            // A VAT company has no sales tax codes: `TaxCode` is not a field it books.
            (Localization::Vat, Some(_), _) => Err(invalid_tax_code()),
            // A purchase (input) VAT group is refused on a sales document like an unknown
            // one: KBA 2693418 quotes "Invalid VAT Group" for exactly that case.
            (Localization::Vat, None, Some(code)) => self
                .vat_groups
                .get(code)
                .filter(|g| !g.inactive.is_yes() && g.is_output())
                .and_then(|g| g.rate_on(day))
                .ok_or_else(invalid_vat_group),
            // A sales-tax company has no VAT groups.
            (Localization::SalesTax, _, Some(_)) => Err(invalid_vat_group()),
            // A code that is inactive or not valid for A/R documents is refused like an
            // unknown one ("Specify valid tax code"); the reference has no other text for it.
            (Localization::SalesTax, Some(code), None) => self
                .tax_codes
                .get(code)
                .filter(|t| !t.inactive.is_yes() && t.valid_for_ar.is_yes())
                .map(|t| t.rate)
                .ok_or_else(invalid_tax_code),
        }
    }

    /// Local currency per unit of `currency` on `day`; 1 for the local currency.
    pub fn exchange_rate(&self, currency: &str, day: NaiveDate) -> Option<Decimal> {
        if currency == self.local_currency {
            return Some(Decimal::ONE);
        }
        self.exchange_rates
            .iter()
            .find(|r| r.currency == currency && r.date == day)
            .map(|r| r.rate)
    }

    /// The rate a document in `currency` dated `day` is booked at. Without a rate SAP
    /// refuses the document. The real text was not found; this one names the currency and day.
    pub fn document_rate(
        &self,
        currency: &str,
        day: NaiveDate,
    ) -> Result<Decimal, ServiceLayerError> {
        self.exchange_rate(currency, day).ok_or_else(|| {
            ServiceLayerError::business(format!(
                "Update the exchange rate for currency '{currency}' on {day} [ORDR.DocRate]"
            ))
        })
    }

    /// A foreign-currency document needs a partner in that currency or in all currencies
    /// (`##`). The real text was not found; this one names both currencies.
    pub fn check_partner_currency(
        &self,
        card_code: &str,
        partner_currency: Option<&str>,
        doc_currency: &str,
    ) -> Result<(), ServiceLayerError> {
        if doc_currency == self.local_currency {
            return Ok(());
        }
        match partner_currency {
            Some(c) if c == doc_currency || c == ALL_CURRENCIES => Ok(()),
            other => Err(ServiceLayerError::business(format!(
                "Document currency '{doc_currency}' does not match the currency '{}' of business partner '{card_code}' [ORDR.DocCur]",
                other.unwrap_or(self.local_currency.as_str())
            ))),
        }
    }

    /// Every date of a sales document must fall in an unlocked posting period (when the
    /// seed defines periods). Text and code as a real B1 answered it (-5002 10000156).
    pub fn check_posting_dates(&self, dates: &[NaiveDate]) -> Result<(), ServiceLayerError> {
        if self.posting_periods.is_empty() {
            return Ok(());
        }
        for day in dates {
            let open = self
                .posting_periods
                .iter()
                .find(|p| p.from <= *day && *day <= p.to)
                .is_some_and(|p| p.status == PeriodStatus::Unlocked);
            if !open {
                return Err(ServiceLayerError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    -5002,
                    "10000156 - Posting Date deviates from the defined range. To complete the operation, define the posting period to match the entered Posting Date.",
                ));
            }
        }
        Ok(())
    }
}
