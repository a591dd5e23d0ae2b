//! deploy/alerts.yml names only metrics that `/metrics` serves, with label values it uses
//! (promtool checks the rules themselves: tests/alerts/run.sh).
use b1bridge::domain::exception::Category;
use b1bridge::domain::order_flow::OrderStatus;

use crate::support::spawn_app;
use std::collections::BTreeSet;

#[tokio::test]
async fn the_alerting_rules_use_only_metrics_that_exist() {
    let rules = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/alerts.yml"))
        .expect("deploy/alerts.yml");
    let used: BTreeSet<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("b1bridge_"))
        .collect();
    assert!(used.len() >= 4, "{used:?}");

    let app = spawn_app().await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in &used {
        // A histogram's series carry the family's name and a suffix.
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|base| text.contains(&format!("# TYPE {base} histogram")))
            .unwrap_or(name);
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{name} is used by deploy/alerts.yml but /metrics does not serve it:\n{text}"
        );
    }
    // Every label value the rules select on is one b1bridge writes.
    let categories = values_of(&rules, "category");
    assert!(!categories.is_empty());
    for c in &categories {
        assert!(Category::parse(c).is_some(), "no exception category '{c}'");
    }
    for s in values_of(&rules, "status") {
        let job = ["pending", "running", "done", "parked"].contains(&s.as_str());
        assert!(
            job || OrderStatus::parse(&s).is_some(),
            "no job or order status '{s}'"
        );
    }
    for o in values_of(&rules, "outcome") {
        assert!(
            ["accepted", "invalid"].contains(&o.as_str()),
            "no event outcome '{o}'"
        );
    }
    for c in values_of(&rules, "sap_class") {
        let classes = [
            "locked",
            "transient",
            "ambiguous",
            "session_expired",
            "permanent",
        ];
        assert!(classes.contains(&c.as_str()), "no SAP error class '{c}'");
    }
    for r in values_of(&rules, "reason") {
        let reasons = [
            "signature_missing",
            "signature_mismatch",
            "timestamp_rejected",
            "too_large",
            "wrong_content_type",
            "not_json",
            "unusable",
            "database_unavailable",
        ];
        assert!(
            reasons.contains(&r.as_str()),
            "no webhook rejection reason '{r}'"
        );
    }
    for k in values_of(&rules, "kind") {
        assert!(
            b1bridge::domain::run::RunKind::parse(&k).is_some(),
            "no run kind '{k}'"
        );
    }
    app.stop().await;
}

/// The values a selector gives `label` (`label="a"` or `label=~"a|b"`), each alternative apart.
fn values_of(rules: &str, label: &str) -> Vec<String> {
    let mut out = vec![];
    for op in ["=\"", "=~\""] {
        let needle = format!("{label}{op}");
        for (at, _) in rules.match_indices(&needle) {
            let rest = &rules[at + needle.len()..];
            let value = rest.split('"').next().unwrap_or_default();
            out.extend(value.split('|').map(str::to_owned));
        }
    }
    out
}
