//! The go-live audit (docs/go-live-audit.md): before the first real order, what would stop
//! this SAP company and this store from posting right — found all at once, writing nothing.
//!
//! Pure: each check takes what was read from SAP B1, Magento and b1bridge's own settings and
//! mappings (see [`facts`]) and returns [`Finding`]s. Reading is the worker's job
//! (`worker::audit`), rendering for a terminal is [`AuditReport::to_text`].
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod catalogue;
pub mod company;
pub mod dry_run;
pub mod facts;
pub mod partners;
pub mod tax;
pub mod warehouses;

/// Where the settings and mappings an operator fixes live; quoted in `fix` texts.
pub(crate) const SETTINGS_API: &str = "PUT /api/v1/settings";
pub(crate) fn mappings_api(kind: &str) -> String {
    format!("PUT /api/v1/mappings/{kind}/{{key}}")
}

/// How much a finding matters for going live.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Orders would be refused, held or booked wrong: fix before going live.
    Blocking,
    /// Orders post, but something will need a person (drafts, a stale source, a near miss).
    Warning,
    /// What the audit saw, for the record (inventory and serial/batch items, the currency).
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Blocking => "blocking",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Which part of the audit found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Catalogue,
    Warehouses,
    Tax,
    Partners,
    Company,
    DryRun,
}

impl Check {
    pub const ALL: [Check; 6] = [
        Check::Catalogue,
        Check::Warehouses,
        Check::Tax,
        Check::Partners,
        Check::Company,
        Check::DryRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::Catalogue => "catalogue",
            Check::Warehouses => "warehouses",
            Check::Tax => "tax",
            Check::Partners => "partners",
            Check::Company => "company",
            Check::DryRun => "dry_run",
        }
    }
}

/// One thing the audit found: what, how much it matters, what it means, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"severity": "blocking", "check": "tax",
    "object": "Magento tax rate 'UK-Standard'",
    "meaning": "It maps to VAT group 'I1', a purchase (input) VAT group: SAP refuses it on a sales order (\"Invalid VAT Group\").",
    "fix": "Map the rate to an output VAT group with 20 %: PUT /api/v1/mappings/tax-codes/{key}"}))]
pub struct Finding {
    pub severity: Severity,
    pub check: Check,
    /// The object concerned: a SKU, a rate, a warehouse, an order, a setting.
    pub object: String,
    /// What is wrong (or what was seen) and what it does to orders.
    pub meaning: String,
    /// Which mapping or setting to change, or what to change in SAP B1 or Magento.
    pub fix: String,
}

impl Finding {
    pub fn new(
        severity: Severity,
        check: Check,
        object: impl Into<String>,
        meaning: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            check,
            object: object.into(),
            meaning: meaning.into(),
            fix: fix.into(),
        }
    }
}

/// Counts of what the audit looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditFigures {
    /// Enabled Magento products checked against SAP items.
    pub products: u64,
    pub magento_tax_rates: u64,
    pub warehouse_mappings: u64,
    /// Magento orders dry-run through `OrdersService_Preview`.
    pub orders: u64,
    /// Of those, the ones SAP would book exactly as Magento charged.
    pub orders_matching: u64,
    pub blocking: u64,
    pub warnings: u64,
    pub info: u64,
}

/// The whole audit: what it looked at and what it found, most severe first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditReport {
    pub figures: AuditFigures,
    pub findings: Vec<Finding>,
}

/// Findings per check and severity kept in full; the rest of a long list (a catalogue of
/// 100,000 SKUs none of which is in SAP) is summed up in one finding, so the report stays
/// readable and the stored run small.
pub const MAX_FINDINGS_PER_KIND: usize = 100;

impl AuditReport {
    /// Builds the report: findings sorted by severity then check, long lists summed up, and
    /// the severity counts filled in.
    pub fn new(mut figures: AuditFigures, findings: Vec<Finding>) -> Self {
        let mut findings = findings;
        findings.sort_by_key(|f| (f.severity, f.check as u8));
        let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
        let mut i = 0;
        while i < findings.len() {
            let (severity, check) = (findings[i].severity, findings[i].check);
            let end = findings[i..]
                .iter()
                .position(|f| (f.severity, f.check) != (severity, check))
                .map_or(findings.len(), |n| i + n);
            let group = &findings[i..end];
            kept.extend(group.iter().take(MAX_FINDINGS_PER_KIND).cloned());
            if group.len() > MAX_FINDINGS_PER_KIND {
                let rest = &group[MAX_FINDINGS_PER_KIND..];
                kept.push(Finding::new(
                    severity,
                    check,
                    format!("{} more", rest.len()),
                    format!(
                        "{} more {} findings of the {} check, not listed one by one; the first: {}",
                        rest.len(),
                        severity.as_str(),
                        check.as_str(),
                        rest[0].meaning
                    ),
                    rest[0].fix.clone(),
                ));
            }
            i = end;
        }
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count() as u64;
        figures.blocking = count(Severity::Blocking);
        figures.warnings = count(Severity::Warning);
        figures.info = count(Severity::Info);
        Self {
            figures,
            findings: kept,
        }
    }

    /// Whether any finding would block orders (the command then exits non-zero).
    pub fn has_blocking(&self) -> bool {
        self.figures.blocking > 0
    }

    /// The report for a terminal: a summary line, then the findings grouped by check.
    pub fn to_text(&self) -> String {
        let f = &self.figures;
        let mut out = format!(
            "b1bridge go-live audit: {} blocking, {} warning(s), {} info\n\
             checked {} products, {} Magento tax rates, {} warehouse mappings, {} orders dry-run ({} would post exactly)\n",
            f.blocking,
            f.warnings,
            f.info,
            f.products,
            f.magento_tax_rates,
            f.warehouse_mappings,
            f.orders,
            f.orders_matching
        );
        for check in Check::ALL {
            let of_check: Vec<&Finding> =
                self.findings.iter().filter(|x| x.check == check).collect();
            out.push_str(&format!("\n== {} ==\n", check.as_str()));
            if of_check.is_empty() {
                out.push_str("  ok\n");
                continue;
            }
            for x in of_check {
                let tag = match x.severity {
                    Severity::Blocking => "BLOCKING",
                    Severity::Warning => "WARNING ",
                    Severity::Info => "info    ",
                };
                out.push_str(&format!("  [{tag}] {}\n", x.object));
                out.push_str(&format!("             {}\n", x.meaning));
                if !x.fix.is_empty() {
                    out.push_str(&format!("             fix: {}\n", x.fix));
                }
            }
        }
        out.push_str(if self.has_blocking() {
            "\nResult: NOT ready — blocking findings above.\n"
        } else {
            "\nResult: ready — no blocking findings.\n"
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(s: Severity, c: Check, object: &str) -> Finding {
        Finding::new(s, c, object, "meaning", "fix")
    }

    #[test]
    fn a_report_sorts_by_severity_counts_and_sums_up_long_lists() {
        let mut findings = vec![finding(Severity::Info, Check::Company, "USD")];
        for i in 0..(MAX_FINDINGS_PER_KIND + 5) {
            findings.push(finding(
                Severity::Blocking,
                Check::Catalogue,
                &format!("SKU {i}"),
            ));
        }
        findings.push(finding(Severity::Warning, Check::Company, "approvals"));
        let report = AuditReport::new(AuditFigures::default(), findings);
        assert_eq!(report.figures.blocking, (MAX_FINDINGS_PER_KIND + 5) as u64);
        assert_eq!((report.figures.warnings, report.figures.info), (1, 1));
        assert!(report.has_blocking());
        assert_eq!(report.findings[0].severity, Severity::Blocking);
        assert_eq!(report.findings.len(), MAX_FINDINGS_PER_KIND + 1 + 2);
        assert_eq!(report.findings[MAX_FINDINGS_PER_KIND].object, "5 more");
        let text = report.to_text();
        assert!(text.contains("[BLOCKING] SKU 0"), "{text}");
        assert!(text.contains("NOT ready"), "{text}");
        let clean = AuditReport::new(AuditFigures::default(), vec![]);
        assert!(!clean.has_blocking());
        assert!(clean.to_text().contains("Result: ready"));
    }
}
