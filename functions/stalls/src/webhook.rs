//! The alerts' outbox: each raised alert onto the alerts queue, and to the seller's endpoint: the alert JSON POSTed with `x-lastmile-signature` ([`alert::sign`], the secret
//! read through the secrets port). An alert waits on the `alert-outbox` index with its next attempt's time; a
//! failed attempt is tried again after [`alert::retry_after_seconds`], by this run or a later one, until
//! [`MAX_ATTEMPTS`] are spent. Each outcome is written on the alert's version, so two runs never both send it.

use async_trait::async_trait;
use jiff::Timestamp;
use lastmile_core::tracking::alert::{self, SIGNATURE_HEADER};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::table::{Condition, StoreError, TenantTable};
use lastmile_platform::repo::tracking::{self, AlertRecord, Delivery};
use lastmile_platform::repo::{self, Versioned};
use sha2::{Digest, Sha256};

use crate::Ports;

/// Attempts before an alert's delivery is given up: the pauses between them are 30 s, 1, 2, 4 and 8 minutes,
/// then 16, 32 minutes (plus up to a quarter), about an hour in all.
pub const MAX_ATTEMPTS: u32 = 8;

/// Most alerts one run delivers per tenant.
const MAX_DUE: usize = 200;

/// Sends one signed alert. `Err` carries what went wrong (a status or a transport error), for the record.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    async fn post(&self, url: &str, signature: &str, body: &str) -> Result<(), String>;
}

/// The sender over HTTP(S): a 2xx is delivered, anything else (or no answer within 10 s) is a failure.
pub struct HttpSender;

#[async_trait]
impl WebhookSender for HttpSender {
    async fn post(&self, url: &str, signature: &str, body: &str) -> Result<(), String> {
        let (url, signature, body) = (url.to_owned(), signature.to_owned(), body.to_owned());
        // ureq blocks: off the async workers.
        tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(std::time::Duration::from_secs(10)))
                .build()
                .into();
            let response = agent
                .post(&url)
                .header("content-type", "application/json")
                .header(SIGNATURE_HEADER, &signature)
                .send(body.as_bytes())
                .map_err(|e| e.to_string())?;
            match response.status().as_u16() {
                200..=299 => Ok(()),
                status => Err(format!("the endpoint answered {status}")),
            }
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// What one run's sends did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxReport {
    /// Alerts put on the alerts queue.
    pub queued: usize,
    /// Queue sends that failed: the alert stays owed, for the next run.
    pub queue_failed: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub gave_up: usize,
}

/// Sends the tenant's alerts due at `now`: onto the alerts queue when not yet there, and to the webhook when an
/// attempt is due.
pub async fn deliver_due(
    ports: &Ports,
    table: &TenantTable<'_>,
    tenant: &TenantConfig,
    now: Timestamp,
) -> Result<OutboxReport, StoreError> {
    let mut report = OutboxReport::default();
    let due = tracking::alerts_due(table, now, MAX_DUE).await?;
    if due.is_empty() {
        return Ok(report);
    }
    let hook = tenant.tracking.alert_webhook.as_ref();
    let mut secret = None;
    if let Some(hook) = hook.filter(|_| due.iter().any(|d| webhook_due(&d.value, now))) {
        match ports.secrets.get(&hook.secret).await {
            Ok(value) => secret = Some(value),
            Err(e) => tracing::error!(tenant = %tenant.id, error = %e, "alert webhook secret"),
        }
    }
    for Versioned { value: mut record, version } in due {
        let before = record.clone();
        if !record.queued {
            match enqueue(ports, &record.alert).await {
                Ok(()) => {
                    record.queued = true;
                    report.queued += 1;
                }
                Err(error) => {
                    report.queue_failed += 1;
                    tracing::error!(tenant = %tenant.id, alert = %record.alert.id, %error, "alerts queue; sent again next run");
                }
            }
        }
        if webhook_due(&record, now) {
            record.delivery = match hook {
                // The webhook was removed since: nothing to deliver to.
                None => Delivery::NotConfigured,
                Some(hook) => attempt(ports, tenant, hook, secret.as_deref(), &record, now, &mut report).await,
            };
        }
        if record != before {
            settle(table, &record, version).await?;
        }
    }
    Ok(report)
}

fn webhook_due(record: &AlertRecord, now: Timestamp) -> bool {
    matches!(record.delivery, Delivery::Pending { next_attempt_at, .. } if next_attempt_at <= now)
}

async fn enqueue(ports: &Ports, alert: &lastmile_core::tracking::alert::Alert) -> Result<(), String> {
    let body = serde_json::to_string(alert).map_err(|e| e.to_string())?;
    ports.alerts.send(&body).await.map(|_| ()).map_err(|e| e.to_string())
}

/// One webhook attempt and the delivery state it leaves.
async fn attempt(
    ports: &Ports,
    tenant: &TenantConfig,
    hook: &lastmile_platform::config::AlertWebhook,
    secret: Option<&str>,
    record: &AlertRecord,
    now: Timestamp,
    report: &mut OutboxReport,
) -> Delivery {
    let Delivery::Pending { attempts, .. } = record.delivery else { return record.delivery.clone() };
    let attempts = attempts + 1;
    let outcome = match (secret, serde_json::to_string(&record.alert)) {
        (Some(secret), Ok(body)) => {
            let signature = alert::sign(secret.as_bytes(), now, body.as_bytes());
            ports.webhook.post(&hook.url, &signature, &body).await
        }
        (None, _) => Err("the webhook secret could not be read".to_owned()),
        (_, Err(e)) => Err(e.to_string()),
    };
    let id = &record.alert.id;
    match outcome {
        Ok(()) => {
            report.delivered += 1;
            Delivery::Delivered { attempts, at: now }
        }
        Err(error) => match alert::retry_after_seconds(attempts, MAX_ATTEMPTS, jitter(id, attempts)) {
            Some(pause) => {
                report.retrying += 1;
                let next = Timestamp::from_second(now.as_second().saturating_add(pause as i64)).unwrap_or(now);
                tracing::warn!(tenant = %tenant.id, alert = %id, attempts, pause, error = %error, "alert webhook failed; retrying");
                Delivery::Pending { attempts, next_attempt_at: next }
            }
            None => {
                report.gave_up += 1;
                tracing::error!(tenant = %tenant.id, alert = %id, attempts, error = %error, "alert webhook given up");
                Delivery::GaveUp { attempts, last_error: error }
            }
        },
    }
}

/// Writes the alert's delivery on its version: a concurrent run that got there first wins, and this outcome is
/// dropped (at worst the endpoint got the alert twice, which its id lets it recognise).
async fn settle(table: &TenantTable<'_>, record: &AlertRecord, version: u64) -> Result<(), StoreError> {
    match repo::save(table, record, Condition::Version(version)).await {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A spread in 0..1 drawn from the alert and the attempt, so many alerts failing together do not retry in step,
/// and the same attempt always waits the same (tests and reruns are reproducible).
pub fn jitter(alert_id: &str, attempt: u32) -> f64 {
    let digest = Sha256::new().chain_update(alert_id.as_bytes()).chain_update(attempt.to_be_bytes()).finalize();
    f64::from(u16::from_be_bytes([digest[0], digest[1]])) / f64::from(u16::MAX)
}
