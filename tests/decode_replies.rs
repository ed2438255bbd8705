//! Replies and request bodies shaped as the server's Go models (issue 11, section 3), against a
//! loopback HTTP server (wiremock): each reply is what the Go struct encodes, and decodes; each
//! request body says what the server accepts; string maps keep the keys the spec does not name.

use matterapi::{Client, types};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn serving(method_: &str, path_: &str, reply: serde_json::Value) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method(method_))
        .and(path(path_))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply))
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").expect("client");
    (server, client)
}

#[tokio::test]
async fn a_cel_visual_ast_with_int_value_types_and_list_values_decodes() {
    let (_s, client) = serving(
        "POST",
        "/api/v4/access_control_policies/cel/visual_ast",
        json!({"conditions": [
            {"attribute": "user.attributes.Team", "operator": "in", "value": ["a", "b"],
             "value_type": 0, "attribute_type": "multiselect"},
            {"attribute": "user.attributes.Level", "operator": "==", "value": "user.attributes.Other",
             "value_type": 1, "attribute_type": "text"}
        ]}),
    )
    .await;
    let ast = client
        .get_cel_visual_ast()
        .body_map(|b| b.expression(Some("user.attributes.Team in ['a', 'b']".to_owned())))
        .send()
        .await
        .expect("decodes")
        .into_inner();
    let conditions = ast.conditions.expect("conditions");
    assert_eq!(conditions[0].value, Some(json!(["a", "b"])));
    assert_eq!(conditions[0].value_type, Some(0));
    assert_eq!(conditions[1].value_type, Some(1));
    assert_eq!(conditions[1].attribute_type.as_deref(), Some("text"));
}

#[tokio::test]
async fn marketplace_plugins_with_label_objects_decode() {
    let (_s, client) = serving(
        "GET",
        "/api/v4/plugins/marketplace",
        json!([{"homepage_url": "https://example.invalid", "icon_data": "", "download_url": "",
                "release_notes_url": "", "labels": [{"name": "Beta", "description": "in beta",
                "url": "", "color": "#ff0000"}], "hosting": "", "author_type": "mattermost",
                "release_stage": "beta", "enterprise": false, "signature": "",
                "manifest": {"id": "com.example.plugin", "name": "Example", "version": "1.0.0"},
                "installed_version": ""}]),
    )
    .await;
    let plugins = client
        .get_marketplace_plugins()
        .send()
        .await
        .expect("decodes")
        .into_inner();
    let labels = plugins[0].labels.clone().expect("labels");
    let label = &labels[0];
    assert_eq!(label.name.as_deref(), Some("Beta"));
    assert_eq!(label.color.as_deref(), Some("#ff0000"));
    assert_eq!(plugins[0].release_stage.as_deref(), Some("beta"));
}

#[tokio::test]
async fn flagged_post_field_values_with_json_values_decode() {
    let (_s, client) = serving(
        "GET",
        "/api/v4/content_flagging/post/p1/field_values",
        json!([
            {"id": "v1", "target_id": "p1", "target_type": "post", "group_id": "g", "field_id": "f1",
             "value": "a string", "create_at": 1, "update_at": 2, "delete_at": 0},
            {"id": "v2", "target_id": "p1", "target_type": "post", "group_id": "g", "field_id": "f2",
             "value": ["one", "two"], "create_at": 1, "update_at": 2, "delete_at": 0},
            {"id": "v3", "target_id": "p1", "target_type": "post", "group_id": "g", "field_id": "f3",
             "value": 1700000000000_i64, "create_at": 1, "update_at": 2, "delete_at": 0}
        ]),
    )
    .await;
    let values = client
        .get_flagged_post_field_values()
        .post_id("p1")
        .send()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(values[0].value, Some(json!("a string")));
    assert_eq!(values[1].value, Some(json!(["one", "two"])));
    assert_eq!(values[2].value, Some(json!(1_700_000_000_000_i64)));
}

#[tokio::test]
async fn cloud_products_with_a_float_price_decode() {
    let (_s, client) = serving(
        "GET",
        "/api/v4/cloud/products",
        json!([{"id": "prod_1", "name": "Professional", "description": "", "price_per_seat": 10.5,
                "add_ons": [], "sku": "professional", "price_id": "price_1",
                "product_family": "on-prem", "recurring_interval": "month",
                "billing_scheme": "per_seat", "cross_sells_to": ""}]),
    )
    .await;
    let products = client
        .get_cloud_products()
        .send()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(products[0].price_per_seat, Some(10.5));
    assert_eq!(products[0].sku.as_deref(), Some("professional"));
}

#[tokio::test]
async fn a_cloud_customer_with_int_employees_and_string_last_four_decodes() {
    let (_s, client) = serving(
        "GET",
        "/api/v4/cloud/customer",
        json!({"name": "Acme", "email": "billing@example.invalid", "num_employees": 250,
               "monthly_subscription_alt_payment_method": "", "id": "cus_1", "creator_id": "u1",
               "create_at": 1, "billing_address": {"city": "X", "country": "Y", "line1": "",
               "line2": "", "postal_code": "0042", "state": ""}, "company_address": null,
               "payment_method": {"type": "card", "last_four": "0042", "exp_month": 12,
               "exp_year": 2030, "card_brand": "visa", "name": "A"}}),
    )
    .await;
    let customer = client
        .get_cloud_customer()
        .send()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(customer.num_employees, Some(250));
    assert_eq!(
        customer.payment_method.and_then(|p| p.last_four).as_deref(),
        Some("0042"),
        "a string keeps its leading zero"
    );
}

#[tokio::test]
async fn invoices_with_metadata_maps_and_fractional_quantities_decode() {
    let (_s, client) = serving(
        "GET",
        "/api/v4/cloud/subscription/invoices",
        json!([{"id": "in_1", "number": "1", "create_at": 1, "total": 1000, "tax": 0,
                "status": "paid", "description": "", "period_start": 1, "period_end": 2,
                "subscription_id": "sub_1", "current_product_name": "Professional",
                "line_items": [], "item": [{"price_id": "price_1", "total": 1000, "quantity": 2.5,
                "price_per_unit": 400, "description": "seats", "type": "onpremise",
                "metadata": {"seats": 10, "note": "x"}, "period_start": 1, "period_end": 2}]}]),
    )
    .await;
    let invoices = client
        .get_invoices_for_subscription()
        .send()
        .await
        .expect("decodes")
        .into_inner();
    let items = invoices[0].item.clone().expect("items");
    assert_eq!(items[0].quantity, Some(2.5));
    let metadata = items[0].metadata.clone().expect("metadata");
    assert_eq!(metadata.get("seats"), Some(&json!(10)));
}

#[tokio::test]
async fn installation_information_with_an_ip_range_list_decodes() {
    let (_s, client) = serving(
        "GET",
        "/api/v4/cloud/installation",
        json!({"id": "inst_1", "state": "stable", "allowed_ip_ranges": [
            {"cidr_block": "10.0.0.0/8", "description": "office", "enabled": true, "owner_id": "u1"}
        ]}),
    )
    .await;
    let installation = client
        .get_endpoint_for_installation_information()
        .send()
        .await
        .expect("decodes")
        .into_inner();
    let ranges = installation.allowed_ip_ranges.expect("ranges");
    let range = &ranges[0];
    assert_eq!(range.cidr_block.as_deref(), Some("10.0.0.0/8"));
    assert_eq!(range.enabled, Some(true));
}

#[tokio::test]
async fn a_post_body_carries_its_type_and_pending_post_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/posts"))
        .and(body_json(
            json!({"channel_id": "c1", "message": "hi", "type": "custom_report",
                              "pending_post_id": "u1:1700000000000"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "p1", "channel_id": "c1", "message": "hi", "type": "custom_report",
            "pending_post_id": "u1:1700000000000"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").expect("client");
    let post = client
        .create_post()
        .body_map(|b| {
            b.channel_id("c1")
                .message("hi")
                .type_(Some("custom_report".to_owned()))
                .pending_post_id(Some("u1:1700000000000".to_owned()))
        })
        .send()
        .await
        .expect("sent")
        .into_inner();
    assert_eq!(post.pending_post_id.as_deref(), Some("u1:1700000000000"));
}

#[tokio::test]
async fn an_ephemeral_post_carries_props_and_attachments() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/posts/ephemeral"))
        .and(body_json(
            json!({"user_id": "u1", "post": {"channel_id": "c1", "message": "only you",
            "root_id": "r1", "props": {"attachments": [{"text": "details"}]}}}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "p1", "channel_id": "c1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").expect("client");
    let mut props = serde_json::Map::new();
    props.insert("attachments".into(), json!([{"text": "details"}]));
    client
        .create_post_ephemeral()
        .body_map(|b| {
            b.user_id("u1").post(types::CreatePostEphemeralBodyPost {
                channel_id: "c1".into(),
                message: "only you".into(),
                props,
                root_id: Some("r1".into()),
                type_: None,
            })
        })
        .send()
        .await
        .expect("sent");
}

#[test]
fn notify_props_name_the_server_keys_and_keep_unknown_ones() {
    let from_server = json!({"desktop": "mention", "desktop_sound": "true",
        "desktop_notification_sound": "Bing", "desktop_threads": "all", "push_threads": "mention",
        "email_threads": "all", "mark_unread": "all", "push": "default", "email": "default",
        "ignore_channel_mentions": "default", "channel_auto_follow_threads": "off",
        "calls_desktop_sound": "true", "a_future_key": "x"});
    let props: types::ChannelNotifyProps =
        serde_json::from_value(from_server.clone()).expect("decodes");
    assert_eq!(props.desktop_notification_sound.as_deref(), Some("Bing"));
    assert_eq!(props.push_threads.as_deref(), Some("mention"));
    assert_eq!(
        serde_json::to_value(&props).expect("encodes"),
        from_server,
        "round trip"
    );

    let user = json!({"email": "true", "push": "mention", "mark_unread": "all",
        "desktop_threads": "all", "channel": "true", "comments": "never", "first_name": "false",
        "mention_keys": "", "calls_desktop_sound": "true", "auto_responder_message": "away"});
    let props: types::UserNotifyProps = serde_json::from_value(user.clone()).expect("decodes");
    assert_eq!(props.mark_unread.as_deref(), Some("all"));
    assert_eq!(
        serde_json::to_value(&props).expect("encodes"),
        user,
        "round trip"
    );
}

#[tokio::test]
async fn user_props_are_sent_as_the_string_map_the_server_reads() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v4/users/u1/patch"))
        .and(body_json(
            json!({"props": {"customStatus": "{}", "last_search_pointer": "3"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_token(server.uri(), "t").expect("client");
    let props: std::collections::HashMap<String, String> = [
        ("customStatus".to_owned(), "{}".to_owned()),
        ("last_search_pointer".to_owned(), "3".to_owned()),
    ]
    .into();
    client
        .patch_user()
        .user_id("u1")
        .body_map(|b| b.props(props))
        .send()
        .await
        .expect("sent");
}
