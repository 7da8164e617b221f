//! The Shopify app's records on DynamoDB (moto): an install's state works once and not after ten minutes (moto
//! keeps expired items until its sweep, so the app checks the time itself), and `app/uninstalled` disables a
//! tenant kept in the table for every function instance.

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use lastmile_core::shopify::webhook::sign_webhook;
use lastmile_fn_shopify::installation::{self, Installation, StateRefused, Status};
use lastmile_fn_shopify::{App, Credentials};
use lastmile_platform::aws::dynamodb::DynamoTable;
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::clock::{ManualClock, SystemClock};
use lastmile_platform::ports::table::{TableStore, TenantTable};
use lastmile_platform::sealed::Sealer;
use lastmile_platform::shopify_admin::HttpTokenExchange;
use lastmile_platform::tenants::{KeyScope, TenantRegistry};
use lastmile_tests::moto::MotoServer;
use tower::ServiceExt;

async fn dynamo(moto: &MotoServer, name: &str) -> Arc<dyn TableStore> {
    let client = aws_sdk_dynamodb::Client::new(&super::sdk_config(moto).await);
    DynamoTable::create_if_missing(&client, name).await.unwrap();
    Arc::new(DynamoTable::new(client, name, Arc::new(SystemClock)))
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn an_install_state_works_once_and_only_within_ten_minutes_on_dynamodb() {
    let moto = MotoServer::start();
    let table = dynamo(&moto, "lastmile-state").await;
    let now = Timestamp::now();
    let shop = "my-shop.myshopify.com";
    installation::put_state(&*table, "00aa", shop, now).await.unwrap();
    assert_eq!(
        installation::take_state(&*table, "00aa", "other.myshopify.com", now).await.unwrap(),
        Err(StateRefused::Unknown)
    );
    assert_eq!(installation::take_state(&*table, "00aa", shop, now).await.unwrap(), Ok(()));
    assert_eq!(installation::take_state(&*table, "00aa", shop, now).await.unwrap(), Err(StateRefused::Unknown), "once");
    installation::put_state(&*table, "00bb", shop, now).await.unwrap();
    let later = now + SignedDuration::from_mins(11);
    assert_eq!(installation::take_state(&*table, "00bb", shop, later).await.unwrap(), Err(StateRefused::Expired));
    assert_eq!(
        installation::take_state(&*table, "00bb", shop, now).await.unwrap(),
        Err(StateRefused::Unknown),
        "and gone"
    );
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/python-env; scripts/test runs it"]
async fn app_uninstalled_disables_a_tenant_kept_in_dynamodb_for_every_instance() {
    let moto = MotoServer::start();
    let table = dynamo(&moto, "lastmile-uninstall").await;
    let folder = std::env::temp_dir().join(format!("lastmile-aws-uninstall-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let registry = Arc::new(TenantRegistry::open_with_table(&folder, table.clone()).await.unwrap());
    let shop = "my-shop.myshopify.com";
    let tenant = TenantConfig { shopify_domain: Some(shop.into()), ..TenantConfig::sample("my-shop") };
    registry.put_tenant(tenant).await.unwrap();
    let (_, token) = registry.create_scoped_key("my-shop", "shopify-app", "t", KeyScope::CarrierService).await.unwrap();
    let sealer = Sealer::from_secrets(&"7e".repeat(32), &[]).unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let record = Installation {
        shop: shop.into(),
        scopes: "read_orders,write_shipping".into(),
        token: Some(sealer.seal(b"shpat_x", &installation::token_owner("my-shop")).unwrap()),
        status: Status::Active,
        installed_at: Timestamp::now() - SignedDuration::from_mins(5),
        uninstalled_at: None,
        carrier_service_id: Some("gid://shopify/DeliveryCarrierService/1".into()),
        webhooks: Default::default(),
    };
    installation::put(&TenantTable::new(&*table, "my-shop"), &record, None).await.unwrap();
    let app = Arc::new(App {
        credentials: Some(Credentials { api_key: "id".into(), secrets: vec!["secret".into()] }),
        scopes: lastmile_fn_shopify::SCOPES.map(str::to_owned).to_vec(),
        app_url: "https://lastmile.test".into(),
        registry: registry.clone(),
        table: table.clone(),
        sealer: Arc::new(sealer),
        // Uninstalling calls nothing at Shopify.
        exchange: Arc::new(HttpTokenExchange {
            client_id: "id".into(),
            client_secret: "secret".into(),
            base: Some("http://127.0.0.1:9".into()),
        }),
        admin: App::admin_at(Some("http://127.0.0.1:9".into())),
        clock,
    });
    let body = r#"{"id":1,"myshopify_domain":"my-shop.myshopify.com"}"#;
    let request = axum::http::Request::post("/webhooks/shopify/app")
        .header("x-shopify-hmac-sha256", sign_webhook(body.as_bytes(), b"secret"))
        .header("x-shopify-topic", "app/uninstalled")
        .header("x-shopify-shop-domain", shop)
        .header("x-shopify-event-id", "e-1")
        .body(Body::from(body))
        .unwrap();
    let response = lastmile_fn_shopify::app(app).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(answer["status"], "uninstalled");

    let other = TenantRegistry::open_with_table(&folder, table.clone()).await.unwrap();
    assert!(!other.tenant("my-shop").unwrap().enabled, "another instance sees the tenant disabled");
    assert!(
        other.resolve_current(&token, KeyScope::CarrierService).await.is_none(),
        "the CarrierService token is revoked"
    );
    let stored = installation::get(&TenantTable::new(&*table, "my-shop")).await.unwrap().unwrap().value;
    assert_eq!(stored.status, Status::Uninstalled);
    assert!(stored.token.is_none());
    let _ = std::fs::remove_dir_all(&folder);
}
