//! Fuzz targets (property-based, proptest: cargo-fuzz needs a nightly toolchain) for what
//! reads Magento's input: the webhook envelope with the order normaliser, the credit memo,
//! and Magento's error messages. The property is the same for each: any input ends in a value
//! or an error, never a panic, and what comes out is bounded by what came in. Inputs are
//! raw bytes, arbitrary JSON, deep nesting, and real sample orders with parts replaced by
//! arbitrary JSON. `B1BRIDGE_FUZZ_CASES` sets the cases per target (default 1000); the README
//! records a long run.
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};

use super::envelope::parse_event;
use super::message::{MagentoMessage, MAX_RENDERED};
use super::order::normalise;
use super::types::CreditMemo;

pub(crate) fn config() -> Config {
    let cases = std::env::var("B1BRIDGE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    Config {
        cases,
        // Found failures are reported in the test's output; no files beside the source.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Any JSON value, nested a few levels, with the number and string shapes Magento sends
/// (numbers as strings, decimals, huge and negative values, empty and odd text).
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[0-9]{0,30}(\\.[0-9]{0,30})?".prop_map(Value::String),
        "-?[0-9]{1,3}(\\.[0-9]{1,4})?e[+-]?[0-9]{1,4}".prop_map(Value::String),
        ".{0,40}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const SAMPLES: [&str; 7] = [
    include_str!("../../tests/fixtures/magento/rest-order-canceled.json"),
    include_str!("../../tests/fixtures/magento/rest-order-guest-configurable.json"),
    include_str!("../../tests/fixtures/magento/rest-order-guest-coupon-full-discount.json"),
    include_str!(
        "../../tests/fixtures/magento/rest-order-registered-bundle-configurable-downloadable.json"
    ),
    include_str!(
        "../../tests/fixtures/magento/rest-order-registered-configurable-multiitem-tax.json"
    ),
    include_str!(
        "../../tests/fixtures/magento/rest-order-registered-discount-multiitem-tax-histories.json"
    ),
    include_str!(
        "../../tests/fixtures/magento/constructed-order-guest-uk-vat-inclusive-coupon.json"
    ),
];

static EVENT_TYPES: [&str; 6] = [
    "order.placed",
    "order.updated",
    "order.cancelled",
    "creditmemo.created",
    "sales_order_place_after",
    "no.such.event",
];

/// Every JSON pointer in `v`, parents before children.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        _ => {}
    }
}

/// A sample order with up to four of its parts replaced by arbitrary JSON (or removed).
fn mutated_order() -> impl Strategy<Value = Value> {
    let edits = prop::collection::vec(
        (any::<prop::sample::Index>(), prop::option::of(json_value())),
        1..5,
    );
    (0..SAMPLES.len(), edits).prop_map(|(i, edits)| {
        let mut order: Value = serde_json::from_str(SAMPLES[i]).expect("sample parses");
        for (at, replacement) in edits {
            let mut all = Vec::new();
            pointers(&order, String::new(), &mut all);
            if all.is_empty() {
                break;
            }
            let pointer = all[at.index(all.len())].clone();
            match replacement {
                Some(v) => {
                    if let Some(slot) = order.pointer_mut(&pointer) {
                        *slot = v;
                    }
                }
                None => {
                    let (parent, key) = pointer.rsplit_once('/').expect("a pointer has a slash");
                    match order.pointer_mut(parent) {
                        Some(Value::Object(m)) => {
                            m.remove(&key.replace("~1", "/").replace("~0", "~"));
                        }
                        Some(Value::Array(a)) => {
                            if let Ok(i) = key.parse::<usize>() {
                                if i < a.len() {
                                    a.remove(i);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        order
    })
}

fn envelope_bytes(kind: &str, order: &Value) -> Vec<u8> {
    let body = if kind.starts_with("sales_") {
        json!({"eventName": kind, "data": {"order": order}})
    } else {
        json!({"type": kind, "timestamp": "2026-11-26T10:00:00Z", "data": {"order": order}})
    };
    serde_json::to_vec(&body).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_envelope_never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_event(&body);
    }

    #[test]
    fn the_envelope_and_normaliser_never_panic_on_arbitrary_json(kind in prop::sample::select(&EVENT_TYPES[..]), order in json_value()) {
        let _ = parse_event(&envelope_bytes(kind, &order));
        let _ = normalise(&order);
    }

    #[test]
    fn the_envelope_and_normaliser_never_panic_on_mutated_real_orders(kind in prop::sample::select(&EVENT_TYPES[..]), order in mutated_order()) {
        let body = envelope_bytes(kind, &order);
        if let Ok(event) = parse_event(&body) {
            // What comes out is no bigger than what came in: no amplification.
            let out = format!("{event:?}");
            prop_assert!(out.len() <= body.len() * 8 + 4096, "{} bytes in, {} out", body.len(), out.len());
        }
        let _ = normalise(&order);
    }

    #[test]
    fn the_credit_memo_reader_never_panics(memo in json_value(), order_id in json_value(), items in json_value()) {
        let mut base = json!({"entity_id": 7, "order_id": 9, "grand_total": "10.00", "items": [
            {"sku": "MH01-S-Gray", "qty": 1, "row_total": 10, "order_item_id": 1}]});
        base["order_id"] = order_id;
        base["items"] = items;
        let _ = serde_json::from_value::<CreditMemo>(base);
        let _ = serde_json::from_value::<CreditMemo>(memo.clone());
        let _ = serde_json::from_slice::<CreditMemo>(memo.to_string().as_bytes());
    }

    #[test]
    fn magento_error_messages_never_panic_and_stay_bounded(
        template in "([a-z ]{0,8}%[a-z0-9_]{0,3}){0,40}",
        parameters in json_value(),
        nested in prop::collection::vec(("(%[0-9]){0,200}", json_value()), 0..30),
        raw in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let body = json!({
            "message": template,
            "parameters": parameters,
            "errors": nested.iter().map(|(m, p)| json!({"message": m, "parameters": p})).collect::<Vec<_>>(),
        });
        for bytes in [serde_json::to_vec(&body).unwrap(), raw] {
            let rendered = MagentoMessage::from_body(&bytes).render();
            prop_assert!(rendered.len() <= MAX_RENDERED + '…'.len_utf8(), "{} bytes", rendered.len());
        }
    }
}

#[test]
fn a_parameter_named_many_times_renders_bounded() {
    let big = "x".repeat(100_000);
    let body = json!({"message": "%1".repeat(50_000), "parameters": [big]}).to_string();
    let rendered = MagentoMessage::from_body(body.as_bytes()).render();
    assert!(rendered.len() <= MAX_RENDERED + 3, "{}", rendered.len());
    assert!(rendered.ends_with('…'));
    let zero = MagentoMessage::from_body(br#"{"message": "%0 and %00", "parameters": {"a": 1}}"#);
    assert_eq!(zero.render(), "%0 and %00");
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    for depth in [127, 128, 129, 10_000, 500_000] {
        let body = [vec![b'['; depth], vec![b']'; depth]].concat();
        assert!(parse_event(&body).is_err(), "{depth}");
        let body = ["{\"a\":".repeat(depth), "1".into(), "}".repeat(depth)].concat();
        assert!(parse_event(body.as_bytes()).is_err(), "{depth}");
    }
}
