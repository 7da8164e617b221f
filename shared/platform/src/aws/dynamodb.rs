//! The table port on DynamoDB: one table with string keys `pk`/`sk`, indexes `gsi1` and `gsi2` on
//! `gsi1pk`/`gsi1sk` and `gsi2pk`/`gsi2sk`, the item's attributes as one JSON string attribute `a`, a numeric
//! `version`, and the TTL attribute `ttl`. The attributes are a document the store never filters or updates
//! inside (conditions are on `version`), so one string keeps reads and writes free of per-field type mapping and
//! stored numbers exactly as JSON has them. DynamoDB deletes expired items some time after they expire, so reads treat an
//! item past its `ttl` as absent at once, as the embedded store does.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, Put, ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem,
};
use serde_json::{Map, Value};

use crate::ports::clock::Clock;
use crate::ports::table::{
    Condition, INDEXES, Item, Key, MAX_TRANSACTION_WRITES, Page, Query, SkRange, StoreError, TableStore, Write,
};

type Attributes = HashMap<String, AttributeValue>;

pub struct DynamoTable {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text(attributes: &Attributes, name: &str) -> Option<String> {
    match attributes.get(name) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

fn number(attributes: &Attributes, name: &str) -> Option<i64> {
    match attributes.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}

fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

fn to_item(attributes: &Attributes) -> Option<Item> {
    let key = Key::new(text(attributes, "pk")?, text(attributes, "sk")?);
    let values: Map<String, Value> = match attributes.get("a") {
        Some(AttributeValue::S(json)) => serde_json::from_str(json).ok()?,
        _ => Map::new(),
    };
    let mut item = Item::new(key, values);
    item.version = number(attributes, "version").and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    item.expires_at = number(attributes, "ttl");
    for index in INDEXES {
        if let (Some(pk), Some(sk)) = (text(attributes, &format!("{index}pk")), text(attributes, &format!("{index}sk")))
        {
            item.indexes.insert(index.to_owned(), Key::new(pk, sk));
        }
    }
    Some(item)
}

fn from_item(item: &Item, version: u64) -> Attributes {
    let mut attributes = key_attributes(&item.key);
    attributes.insert("version".into(), n(version));
    attributes.insert("a".into(), AttributeValue::S(Value::Object(item.attributes.clone()).to_string()));
    if let Some(at) = item.expires_at {
        attributes.insert("ttl".into(), n(at));
    }
    for (index, key) in &item.indexes {
        attributes.insert(format!("{index}pk"), s(&key.pk));
        attributes.insert(format!("{index}sk"), s(&key.sk));
    }
    attributes
}

/// A condition as an expression, with its names and values.
struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: Attributes,
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> DynamoTable {
        DynamoTable { client, table: table.into(), clock }
    }

    /// Creates the table with its indexes and TTL when it does not exist (tests and `lastmile` tooling; a
    /// deployment gets it from the infrastructure template).
    pub async fn create_if_missing(client: &Client, table: &str) -> Result<(), StoreError> {
        if client.describe_table().table_name(table).send().await.is_ok() {
            return Ok(());
        }
        let string = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let mut request = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash).map_err(backend)?)
            .key_schema(key("sk", KeyType::Range).map_err(backend)?)
            .attribute_definitions(string("pk").map_err(backend)?)
            .attribute_definitions(string("sk").map_err(backend)?);
        for index in INDEXES {
            let (pk, sk) = (format!("{index}pk"), format!("{index}sk"));
            request = request
                .attribute_definitions(string(&pk).map_err(backend)?)
                .attribute_definitions(string(&sk).map_err(backend)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index)
                        .key_schema(key(&pk, KeyType::Hash).map_err(backend)?)
                        .key_schema(key(&sk, KeyType::Range).map_err(backend)?)
                        .projection(Projection::builder().projection_type(ProjectionType::All).build())
                        .build()
                        .map_err(backend)?,
                );
        }
        request.send().await.map_err(|e| backend(e.into_service_error()))?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().enabled(true).attribute_name("ttl").build().map_err(backend)?,
            )
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        Ok(())
    }

    fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    fn live(&self, item: &Item) -> bool {
        item.expires_at.is_none_or(|at| at > self.now())
    }

    /// The expression for `condition`; expired items count as absent.
    fn expression(&self, condition: Condition) -> Option<Expression> {
        let names = HashMap::from([("#ttl".to_owned(), "ttl".to_owned())]);
        let now = ("now".to_owned(), n(self.now()));
        match condition {
            Condition::Always => None,
            Condition::NotExists => Some(Expression {
                text: "attribute_not_exists(pk) OR #ttl <= :now".into(),
                names,
                values: HashMap::from([(format!(":{}", now.0), now.1)]),
            }),
            Condition::Version(version) => Some(Expression {
                text: "version = :version AND (attribute_not_exists(#ttl) OR #ttl > :now)".into(),
                names,
                values: HashMap::from([(":version".to_owned(), n(version)), (format!(":{}", now.0), now.1)]),
            }),
        }
    }

    /// The condition a write under `condition` is sent with, and the version it writes. `Always` reads the
    /// current version first so the version still counts every write.
    async fn resolve(&self, key: &Key, condition: Condition) -> Result<(Condition, u64), StoreError> {
        match condition {
            Condition::Always => Ok(match self.get(key).await? {
                Some(current) => (Condition::Version(current.version), current.version + 1),
                None => (Condition::NotExists, 1),
            }),
            Condition::NotExists => Ok((Condition::NotExists, 1)),
            Condition::Version(v) => Ok((Condition::Version(v), v + 1)),
        }
    }
}

/// How many times a write under `Condition::Always` retries when another writer got in between.
const ALWAYS_RETRIES: usize = 5;

#[async_trait]
impl TableStore for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        Ok(output.item().and_then(to_item).filter(|item| self.live(item)))
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<u64, StoreError> {
        item.check()?;
        for _ in 0..ALWAYS_RETRIES {
            let (sent, version) = self.resolve(&item.key, condition).await?;
            let mut request = self.client.put_item().table_name(&self.table).set_item(Some(from_item(&item, version)));
            if let Some(expression) = self.expression(sent) {
                request = request
                    .condition_expression(expression.text)
                    .set_expression_attribute_names(Some(expression.names))
                    .set_expression_attribute_values(Some(expression.values));
            }
            match request.send().await.map_err(|e| e.into_service_error()) {
                Ok(_) => return Ok(version),
                Err(e) if e.is_conditional_check_failed_exception() => {
                    if condition != Condition::Always {
                        return Err(StoreError::ConditionFailed);
                    }
                }
                Err(e) => return Err(backend(e)),
            }
        }
        Err(StoreError::Backend("the item kept changing under an unconditional write".into()))
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let mut request = self.client.delete_item().table_name(&self.table).set_key(Some(key_attributes(key)));
        if let Some(expression) = self.expression(condition) {
            request = request
                .condition_expression(expression.text)
                .set_expression_attribute_names(Some(expression.names))
                .set_expression_attribute_values(Some(expression.values));
        }
        match request.send().await.map_err(|e| e.into_service_error()) {
            Ok(_) => Ok(()),
            Err(e) if e.is_conditional_check_failed_exception() => Err(StoreError::ConditionFailed),
            Err(e) => Err(backend(e)),
        }
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        if query.limit == 0 {
            return Err(StoreError::Invalid("limit must be at least 1".into()));
        }
        let (pk_name, sk_name) = match &query.index {
            None => ("pk".to_owned(), "sk".to_owned()),
            Some(index) if INDEXES.contains(&index.as_str()) => (format!("{index}pk"), format!("{index}sk")),
            Some(index) => return Err(StoreError::Invalid(format!("no index {index:?}"))),
        };
        let mut names = HashMap::from([("#pk".to_owned(), pk_name), ("#sk".to_owned(), sk_name)]);
        let mut values: Attributes = HashMap::from([(":pk".to_owned(), s(&query.pk))]);
        let condition = match &query.sk {
            SkRange::All => {
                names.remove("#sk");
                "#pk = :pk".to_owned()
            }
            SkRange::Prefix(prefix) => {
                values.insert(":prefix".into(), s(prefix));
                "#pk = :pk AND begins_with(#sk, :prefix)".to_owned()
            }
            SkRange::Between(low, high) => {
                values.insert(":low".into(), s(low));
                values.insert(":high".into(), s(high));
                "#pk = :pk AND #sk BETWEEN :low AND :high".to_owned()
            }
        };
        let start = match (&query.after, &query.index) {
            (None, _) => None,
            (Some(after), None) => Some(key_attributes(after)),
            // An index continuation names the index keys too: read them from the item.
            (Some(after), Some(index)) => {
                let item = self
                    .get(after)
                    .await?
                    .ok_or_else(|| StoreError::Invalid("the continuation item no longer exists".into()))?;
                let index_key = item
                    .indexes
                    .get(index)
                    .ok_or_else(|| StoreError::Invalid("the continuation item is not in this index".into()))?;
                let mut start = key_attributes(after);
                start.insert(format!("{index}pk"), s(&index_key.pk));
                start.insert(format!("{index}sk"), s(&index_key.sk));
                Some(start)
            }
        };
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.clone())
            .key_condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .limit(i32::try_from(query.limit).unwrap_or(i32::MAX))
            .scan_index_forward(!query.descending)
            .set_exclusive_start_key(start)
            .set_consistent_read(query.index.is_none().then_some(true))
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        let items: Vec<Item> = output.items().iter().filter_map(to_item).filter(|item| self.live(item)).collect();
        let next = output.last_evaluated_key().and_then(|k| Some(Key::new(text(k, "pk")?, text(k, "sk")?)));
        Ok(Page { items, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() || writes.len() > MAX_TRANSACTION_WRITES {
            return Err(StoreError::Invalid(format!("a transaction has 1 to {MAX_TRANSACTION_WRITES} writes")));
        }
        let mut items = Vec::with_capacity(writes.len());
        for write in &writes {
            let transact_item = match write {
                Write::Put { item, condition } => {
                    item.check()?;
                    let (sent, version) = self.resolve(&item.key, *condition).await?;
                    let mut put = Put::builder().table_name(&self.table).set_item(Some(from_item(item, version)));
                    if let Some(expression) = self.expression(sent) {
                        put = put
                            .condition_expression(expression.text)
                            .set_expression_attribute_names(Some(expression.names))
                            .set_expression_attribute_values(Some(expression.values));
                    }
                    TransactWriteItem::builder().put(put.build().map_err(backend)?).build()
                }
                Write::Delete { key, condition } => {
                    let mut delete = Delete::builder().table_name(&self.table).set_key(Some(key_attributes(key)));
                    if let Some(expression) = self.expression(*condition) {
                        delete = delete
                            .condition_expression(expression.text)
                            .set_expression_attribute_names(Some(expression.names))
                            .set_expression_attribute_values(Some(expression.values));
                    }
                    TransactWriteItem::builder().delete(delete.build().map_err(backend)?).build()
                }
            };
            items.push(transact_item);
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(e) => match e.into_service_error() {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
                    cancelled,
                ) => {
                    let failed = cancelled
                        .cancellation_reasons()
                        .iter()
                        .position(|reason| reason.code() == Some("ConditionalCheckFailed"))
                        .unwrap_or(0);
                    Err(StoreError::TransactionCancelled(failed))
                }
                other => Err(backend(other)),
            },
        }
    }

    /// A Scan of the whole table filtered by `begins_with(pk, :prefix)`: it reads every item, so only the rare
    /// erasure of a whole tenant uses it. DynamoDB's limit counts items read before the filter, so a page may be
    /// short or empty while there is more.
    async fn scan_prefix(&self, pk_prefix: &str, after: Option<&Key>, limit: usize) -> Result<Page, StoreError> {
        if limit == 0 || pk_prefix.is_empty() {
            return Err(StoreError::Invalid("a scan needs a partition-key prefix and a limit of at least 1".into()));
        }
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :prefix)")
            .expression_attribute_values(":prefix", s(pk_prefix))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(after.map(key_attributes))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        let items: Vec<Item> = output.items().iter().filter_map(to_item).filter(|item| self.live(item)).collect();
        let next = output.last_evaluated_key().and_then(|k| Some(Key::new(text(k, "pk")?, text(k, "sk")?)));
        Ok(Page { items, next })
    }
}
