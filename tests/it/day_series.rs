//! The report's hour-by-hour figures are read back from the rows' own timestamps: orders
//! received and posted per hour, exceptions opened, and the queue's depth at each hour's end.
use b1bridge::domain::daily_check::UtcDay;
use b1bridge::store::day_series;
use chrono::{Duration, NaiveTime, Utc};

use crate::api_common::*;
use crate::support::spawn_app;

#[tokio::test]
async fn hourly_figures_follow_the_rows_timestamps() {
    let app = spawn_app().await;
    let pool = &app.db.pool;
    // Yesterday, so every hour of the day has passed whenever the test runs.
    let day = UtcDay::of(Utc::now().date_naive() - Duration::days(1));
    let at =
        |h: u32, m: u32| day.from + (NaiveTime::from_hms_opt(h, m, 0).unwrap() - NaiveTime::MIN);

    // Order A: received 01:30, posted 03:10 (its job open from 01:30 to 03:10).
    // Order B: received 02:05, still parked behind an unknown_sku exception opened 02:06.
    place_order(&app, "000960001", "a@example.com", &["SKU-A"]).await;
    place_order(&app, "000960002", "b@example.com", &["SKU-B"]).await;
    let x = park_with(&app, &unknown_sku("000960002", "SKU-B")).await;
    for (order, received) in [("000960001", at(1, 30)), ("000960002", at(2, 5))] {
        sqlx::query("UPDATE orders SET created_at = $2 WHERE increment_id = $1")
            .bind(order)
            .bind(received)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("UPDATE outbox SET created_at = $2 WHERE increment_id = $1")
            .bind(order)
            .bind(received)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "UPDATE outbox SET status = 'done', finished_at = $1 WHERE increment_id = '000960001'",
    )
    .bind(at(3, 10))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE orders SET status = 'posted', sap_doc_entry = 7, sap_doc_num = 70 WHERE increment_id = '000960001'",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE exceptions SET first_seen_at = $2 WHERE id = $1")
        .bind(x)
        .bind(at(2, 6))
        .execute(pool)
        .await
        .unwrap();

    let hours = day_series::hourly(pool, &day).await.unwrap();
    assert_eq!(hours.len(), 24, "every hour of a past day");
    assert_eq!(hours[0].hour, day.from);
    let column = |f: fn(&day_series::HourFigures) -> i64| -> Vec<i64> {
        hours.iter().take(6).map(f).collect()
    };
    assert_eq!(column(|h| h.received), [0, 1, 1, 0, 0, 0]);
    assert_eq!(column(|h| h.posted), [0, 0, 0, 1, 0, 0]);
    assert_eq!(column(|h| h.exceptions_opened), [0, 0, 1, 0, 0, 0]);
    // At the end of 01:00–02:00 A waits; of 02:00–03:00 A and B; from 03:10 only B (parked).
    assert_eq!(column(|h| h.queue_depth), [0, 1, 2, 1, 1, 1]);
    assert_eq!(
        hours[23].queue_depth, 1,
        "B is still parked at the day's end"
    );
    app.stop().await;
}
