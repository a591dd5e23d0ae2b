//! Fuzz targets (proptest) for the Service Layer error parser and classifier: any answer
//! (status, `Connection: close`, body bytes, read or write) is classified without a panic, and
//! the message kept is never longer than the body it came from.
use proptest::prelude::*;
use serde_json::json;

use super::error::{classify_response, parse_error_body, Effect};
use crate::magento::fuzz_tests::{config, json_value};

fn effect() -> impl Strategy<Value = Effect> {
    prop_oneof![Just(Effect::Read), Just(Effect::Write)]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_classified(status in 100u16..600, close in any::<bool>(), effect in effect(),
                                body in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = classify_response(status, close, &body, effect);
        if let Some(parsed) = parse_error_body(&body) {
            prop_assert!(parsed.message.len() <= body.len());
        }
    }

    #[test]
    fn any_error_shaped_json_is_classified(status in 100u16..600, close in any::<bool>(), effect in effect(),
                                           code in json_value(), message in json_value(), extra in json_value()) {
        for body in [
            json!({"error": {"code": code.clone(), "message": message.clone()}}),
            json!({"error": {"code": code.clone(), "message": {"lang": "en-us", "value": message.clone()}}}),
            json!({"message": message.clone(), "extra": extra.clone()}),
            json!({"error": extra.clone()}),
        ] {
            let bytes = serde_json::to_vec(&body).unwrap();
            let error = classify_response(status, close, &bytes, effect);
            // Every classification answers the questions the worker asks of it.
            let _ = (error.is_retryable(), error.may_have_been_applied(), error.kind(), error.to_string());
            if let Some(parsed) = parse_error_body(&bytes) {
                prop_assert!(parsed.message.len() <= bytes.len());
            }
        }
    }
}
