//! The batched `NumAtCard` look-up asked ahead of the jobs (`worker::order_lookup`): a stream
//! of orders finds its answers ready, still at one batch per 40 orders, and an order keyed
//! into SAP by hand before b1bridge saw it is still found.
use super::*;
use b1bridge::worker::order_lookup::OrderLookup;

#[tokio::test]
async fn a_stream_of_orders_finds_its_answers_asked_ahead_at_one_batch_per_40_orders() {
    const ORDERS: usize = 100;
    let db = TestDb::new().await;
    let sim = sap_b1::spawn(SapSimConfig::default()).await.unwrap();
    let by_hand = sim
        .key_in_order("WEBGUEST", "AHEAD-070", "WP13-28-Blue", dec!(1))
        .unwrap()
        .unwrap();
    for n in 0..ORDERS {
        let order = sample_as(GUEST_CONFIGURABLE, &format!("AHEAD-{n:03}"));
        intake_event(
            &db.pool,
            json!({"type": "order.placed", "data": {"order": order}}),
        )
        .await;
    }
    let lookup = OrderLookup::new(SapClient::new(&sap_settings(&sim, 4)).unwrap());
    let format = NumAtCardFormat::default();
    let asked = |what: &str| {
        sim.stats()
            .requests_by_path
            .get(&format!("GET /b1s/v1/{what}"))
            .copied()
            .unwrap_or(0)
    };

    // The first order misses: it asks for itself and the next 39 queued, and waits.
    let first = lookup.batched(&db.pool, "AHEAD-000", &format).await;
    assert!(first.unwrap().is_empty());
    assert_eq!((asked("Orders"), asked("Drafts")), (1, 1));

    // The next one's answer is ready; taking it leaves fewer than a batch of answers, so the
    // next batch is asked in the background, before any job misses.
    let second = lookup.batched(&db.pool, "AHEAD-001", &format).await;
    assert!(second.unwrap().is_empty());
    assert!(
        wait_until(Duration::from_secs(5), || async {
            asked("Orders") == 2 && asked("Drafts") == 2
        })
        .await,
        "the next batch is asked ahead of the jobs"
    );

    for n in 2..ORDERS {
        let reference = format!("AHEAD-{n:03}");
        let existing = lookup.batched(&db.pool, &reference, &format).await.unwrap();
        if n == 70 {
            let doc_entries: Vec<i64> = existing.orders.iter().map(|d| d.doc_entry.0).collect();
            assert_eq!(
                doc_entries,
                vec![by_hand.doc_entry],
                "the order keyed in by hand is found by a batch asked ahead"
            );
        } else {
            assert!(existing.is_empty(), "{reference}: {existing:?}");
        }
    }
    assert_eq!(
        (asked("Orders"), asked("Drafts")),
        (3, 3),
        "one batch per 40 orders, asked ahead or not"
    );
}
