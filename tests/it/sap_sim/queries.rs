//! Reading collections: paging with `odata.nextLink`, `Prefer: odata.maxpagesize`, and the
//! OData query options the Service Layer supports.
use super::Sl;
use b1bridge::sim::sap_b1::Seed;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn codes(body: &Value, key: &str) -> Vec<String> {
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `odata.nextLink` from `first` and returns every page's body.
async fn all_pages(sl: &Sl, first: &str, headers: &[(&str, &str)]) -> Vec<Value> {
    let mut pages = vec![sl.get_with(first, headers).await.json()];
    while let Some(next) = pages.last().unwrap()["odata.nextLink"].as_str() {
        assert!(next.starts_with("/b1s/v1/"), "{next}");
        let url = format!("{}{next}", sl.sim.root_url());
        let mut request = sl.http.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = sl.send(request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        pages.push(answer.json());
        assert!(pages.len() < 100, "paging does not end");
    }
    pages
}

#[tokio::test]
async fn collections_come_in_pages_of_20_whose_next_links_reach_every_row() {
    let sl = Sl::start().await;
    let item_count = Seed::default_seed().items.len();
    let first = sl.get("Items?$select=ItemCode").await.json();
    assert_eq!(first["value"].as_array().unwrap().len(), 20);
    assert_eq!(
        first["odata.nextLink"],
        "/b1s/v1/Items?$select=ItemCode&$skip=20"
    );
    assert!(first["odata.metadata"]
        .as_str()
        .unwrap()
        .ends_with("/b1s/v1/$metadata#Items"));
    let pages = all_pages(&sl, "Items?$select=ItemCode", &[]).await;
    let mut all: Vec<String> = pages.iter().flat_map(|p| codes(p, "ItemCode")).collect();
    assert_eq!(all.len(), item_count);
    all.dedup();
    assert_eq!(all.len(), item_count, "a row appeared on two pages");
    assert!(pages.last().unwrap().get("odata.nextLink").is_none());
}

#[tokio::test]
async fn prefer_maxpagesize_sets_the_page_size_and_is_echoed() {
    let sl = Sl::start().await;
    let answer = sl
        .get_with("Items", &[("Prefer", "odata.maxpagesize=50")])
        .await;
    assert_eq!(
        answer.header("Preference-Applied"),
        Some("odata.maxpagesize=50")
    );
    assert_eq!(answer.json()["value"].as_array().unwrap().len(), 50);
    assert_eq!(answer.json()["odata.nextLink"], "/b1s/v1/Items?$skip=50");

    let everything = sl
        .get_with("Items", &[("Prefer", "odata.maxpagesize=0")])
        .await
        .json();
    assert_eq!(
        everything["value"].as_array().unwrap().len(),
        Seed::default_seed().items.len()
    );
    assert!(everything.get("odata.nextLink").is_none());

    // The next link keeps $filter and $select; each page honours the Prefer header again.
    let query = "Items?$filter=startswith(ItemCode,'24-WG')&$select=ItemCode,ItemName";
    let pages = all_pages(&sl, query, &[("Prefer", "odata.maxpagesize=4")]).await;
    let link = pages[0]["odata.nextLink"].as_str().unwrap();
    assert!(
        link.contains("$filter=")
            && link.contains("$select=ItemCode,ItemName")
            && link.ends_with("$skip=4"),
        "{link}"
    );
    let all: Vec<String> = pages.iter().flat_map(|p| codes(p, "ItemCode")).collect();
    assert_eq!(all.len(), 9); // 24-WG080 … 24-WG088
    assert!(all.iter().all(|c| c.starts_with("24-WG")));
    assert!(pages
        .iter()
        .flat_map(|p| p["value"].as_array().unwrap().clone())
        .all(|row| row.as_object().unwrap().len() == 2));
}

#[tokio::test]
async fn filter_orderby_top_skip_select_and_counts_combine_like_odata() {
    let sl = Sl::start().await;
    let tees = "startswith(ItemCode,'WS12')";
    let body = sl
        .get(&format!("Items?$filter={tees}&$orderby=ItemCode desc&$select=ItemCode,ItemName&$inlinecount=allpages"))
        .await
        .json();
    assert_eq!(
        codes(&body, "ItemCode"),
        [
            "WS12-XS-Blue",
            "WS12-S-Blue",
            "WS12-M-Orange",
            "WS12-L-Purple"
        ]
    );
    assert_eq!(body["odata.count"], "4", "odata.count is a string in v1");
    assert!(body["value"][0].get("QuantityOnStock").is_none());

    // $skip applies before $top whatever their order; odata.count ignores both.
    let body = sl
        .get(&format!(
            "Items?$top=2&$skip=1&$filter={tees}&$orderby=ItemCode&$inlinecount=allpages"
        ))
        .await
        .json();
    assert_eq!(codes(&body, "ItemCode"), ["WS12-M-Orange", "WS12-S-Blue"]);
    assert_eq!(body["odata.count"], "4");

    let count = sl.get(&format!("Items/$count?$filter={tees}")).await;
    assert_eq!((count.status, count.text.as_str()), (StatusCode::OK, "4"));

    // Several sort keys, numbers compared as numbers.
    let body = sl
        .get("Items?$filter=QuantityOnStock ge 100 and SalesItem eq 'Y'&$orderby=QuantityOnStock desc,ItemCode asc&$select=ItemCode,QuantityOnStock&$top=200")
        .await
        .json();
    let stock: Vec<rust_decimal::Decimal> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| super::num(&r["QuantityOnStock"]))
        .collect();
    assert!(
        !stock.is_empty() && stock.windows(2).all(|w| w[0] >= w[1]),
        "{stock:?}"
    );
}

#[tokio::test]
async fn filters_understand_enums_dates_not_or_parentheses_and_quotes() {
    let sl = Sl::start().await;
    let customers = sl
        .get("BusinessPartners/$count?$filter=CardType eq 'C'")
        .await
        .text;
    let by_name = sl
        .get("BusinessPartners/$count?$filter=CardType eq 'cCustomer'")
        .await
        .text;
    assert_eq!(customers, by_name);
    let inactive = sl
        .get("Items?$filter=Valid eq 'N' or Frozen eq 'tYES'&$select=ItemCode")
        .await
        .json();
    assert_eq!(
        codes(&inactive, "ItemCode"),
        ["MS10-XL-Black", "WT09-XS-White"]
    );
    let grouped = sl
        .get("Items/$count?$filter=not (startswith(ItemCode,'W') or startswith(ItemCode,'M')) and (endswith(ItemCode,'blue') or contains(ItemName,'Roller'))")
        .await
        .text;
    assert_eq!(grouped, "4"); // 24-WG081/082/083-blue and the foam roller
    let since = sl.get("Items/$count?$filter=UpdateDate ge '20250101' and UpdateDate lt datetime'2026-01-01T00:00:00'").await.text;
    assert_eq!(since, Seed::default_seed().items.len().to_string());

    let created = sl
        .post(
            "BusinessPartners",
            &json!({"CardCode": "C30001", "CardName": "O'Brien & Sons", "CardType": "C"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let found = sl
        .get("BusinessPartners?$filter=CardName eq 'O''Brien %26 Sons'&$select=CardCode,CardType")
        .await
        .json();
    assert_eq!(
        found["value"],
        json!([{"CardCode": "C30001", "CardType": "cCustomer"}])
    );
}

#[tokio::test]
async fn case_insensitive_header_relaxes_string_comparison_only_when_sent() {
    let sl = Sl::start().await;
    let query = "BusinessPartners?$filter=EmailAddress eq 'RONI_COST@EXAMPLE.COM'&$select=CardCode,CardName,EmailAddress";
    assert_eq!(sl.get(query).await.json()["value"], json!([]));
    let found = sl
        .get_with(query, &[("B1S-CaseInsensitive", "true")])
        .await
        .json();
    assert_eq!(codes(&found, "CardCode"), ["C20000"]);
    let exact = sl
        .get("BusinessPartners?$filter=EmailAddress eq 'roni_cost@example.com'&$select=CardCode")
        .await
        .json();
    assert_eq!(codes(&exact, "CardCode"), ["C20000"]);
}

#[tokio::test]
async fn select_includes_collection_properties() {
    let sl = Sl::start().await;
    let item = sl
        .get("Items('MH09-XS-Blue')?$select=ItemCode,ItemWarehouseInfoCollection,ItemPrices")
        .await
        .json();
    let keys: Vec<&String> = item
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with("odata."))
        .collect();
    assert_eq!(
        keys,
        ["ItemCode", "ItemPrices", "ItemWarehouseInfoCollection"]
    );
    let warehouses: Vec<&str> = item["ItemWarehouseInfoCollection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["WarehouseCode"].as_str().unwrap())
        .collect();
    assert_eq!(warehouses, ["01", "02", "03"]);
    for field in ["InStock", "Committed", "Ordered"] {
        assert!(
            item["ItemWarehouseInfoCollection"][0][field].is_number(),
            "{field}"
        );
    }
}

#[tokio::test]
async fn entity_keys_in_every_documented_form_address_the_same_entity() {
    let sl = Sl::start().await;
    let a = sl.get("Items('RACER')").await.json();
    let b = sl.get("Items(ItemCode='RACER')").await.json();
    assert_eq!(a, b);
    assert_eq!(a["ItemName"], "Racer Back Maxi Dress");
    assert!(a["odata.metadata"]
        .as_str()
        .unwrap()
        .ends_with("$metadata#Items/@Element"));
    let order = sl
        .create_order(&super::order("WEBGUEST", "K-1", "RACER", 1))
        .await;
    let entry = order["DocEntry"].as_i64().unwrap();
    assert_eq!(
        sl.get(&format!("Orders({entry})")).await.json()["DocEntry"],
        entry
    );
    assert_eq!(
        sl.get(&format!("Orders(DocEntry={entry})")).await.json()["DocEntry"],
        entry
    );
    assert_eq!(
        sl.get("Warehouses('02')").await.json()["WarehouseName"],
        "Flagship store - Detroit"
    );
    assert_eq!(
        sl.get("SalesTaxCodes('US-MI')").await.json()["Rate"],
        json!(8.25)
    );
    assert_eq!(
        sl.get("AdditionalExpenses(1)").await.json()["Name"],
        "Freight"
    );
}

#[tokio::test]
async fn missing_entities_unknown_paths_and_bad_queries_have_sap_error_shapes() {
    let sl = Sl::start().await;
    let missing = sl.get("Items('NO-SUCH-ITEM')").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.error(),
        (-2028, "No matching records found (ODBC -2028)".to_owned())
    );
    assert_eq!(sl.get("Orders(999999)").await.error().0, -2028);
    // Paths are case-sensitive.
    let lower = sl.get("items('RACER')").await;
    assert_eq!(
        (lower.status, lower.error().0),
        (StatusCode::NOT_FOUND, -2028)
    );
    for bad in [
        "Items?$filter=ItemCode eq",
        "Items?$filter=NoSuchProperty eq 'x'",
        "Items?$select=ItemCode,Nope",
        "Items?$inlinecount=maybe",
        "DeliveryNotes?$filter=DocumentLines/any(d: d/BaseEntry eq 1)",
    ] {
        let answer = sl.get(bad).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            answer.text
        );
        assert_eq!(answer.error().0, -1000, "{bad}");
    }
}

#[tokio::test]
async fn a_single_property_reads_as_value_and_null_is_not_found() {
    let sl = Sl::start().await;
    let o = sl
        .create_order(&super::order("WEBGUEST", "V-1", "RACER", 1))
        .await;
    let entry = &o["DocEntry"];
    assert_eq!(
        sl.get(&format!("Orders({entry})/DocEntry")).await.json()["value"],
        *entry
    );
    let null = sl.get(&format!("Orders({entry})/Comments")).await;
    assert_eq!(null.status, StatusCode::NOT_FOUND);
    assert_eq!(
        null.error(),
        (
            -2028,
            "Resource not found for the property: Comments".to_owned()
        )
    );
}

/// Later pages answer what the query answers at the moment they are read: the simulator
/// remembers a paged result only until its data changes (as the Service Layer re-executes
/// a `$skip` query), so a row that comes to match between two pages is not lost.
#[tokio::test]
async fn a_row_that_comes_to_match_between_pages_is_on_a_later_page() {
    let sl = Sl::start().await;
    let mut stocked: Vec<String> = Seed::default_seed()
        .items
        .iter()
        .filter(|i| i.inventory_item.is_yes())
        .map(|i| i.item_code.clone())
        .collect();
    stocked.sort();
    let plenty = rust_decimal::Decimal::from(100_000);
    for code in &stocked[..6] {
        sl.sim.set_stock(code, "01", plenty).unwrap();
    }
    let query = "Items?$filter=QuantityOnStock ge 100000&$select=ItemCode&$orderby=ItemCode";
    let prefer = [("Prefer", "odata.maxpagesize=4")];
    let first = sl.get_with(query, &prefer).await.json();
    assert_eq!(codes(&first, "ItemCode"), stocked[..4]);

    // Between the pages, a seventh item gets stock (a receipt in the B1 client).
    sl.sim.set_stock(&stocked[6], "01", plenty).unwrap();
    let next = first["odata.nextLink"].as_str().unwrap();
    let second = sl
        .send(
            sl.http
                .get(format!("{}{next}", sl.sim.root_url()))
                .header("Prefer", "odata.maxpagesize=4"),
        )
        .await
        .json();
    assert_eq!(codes(&second, "ItemCode"), stocked[4..7]);

    // Unchanged data: the same pages again, from the remembered result.
    let pages = all_pages(&sl, query, &prefer).await;
    let all: Vec<String> = pages.iter().flat_map(|p| codes(p, "ItemCode")).collect();
    assert_eq!(all, stocked[..7]);
}
