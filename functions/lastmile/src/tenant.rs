//! `lastmile tenant …`: tenants and their API keys in a data directory, or (`--table`, in a build with the
//! `aws` feature) in a deployment's DynamoDB table over its deployed folder. A key is printed once when created
//! and stored only as its hash; several may be active at once, so a key is rotated by creating the new one,
//! moving the callers, then revoking the old one. A running `lastmile dev` sees key changes at its next request;
//! deployed functions within a minute.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::tenants::TenantRegistry;

#[derive(Debug, Args)]
pub struct TenantArgs {
    #[command(subcommand)]
    pub command: TenantCommand,
    /// Where configuration, tenants and keys live.
    #[arg(long, global = true, default_value = ".lastmile")]
    pub data_dir: PathBuf,
    /// A deployment's DynamoDB table (its name; credentials and region from the standard AWS chain): tenants
    /// and keys are written there, over those of `--data-dir`, the folder deployed with the functions.
    #[arg(long, global = true)]
    pub table: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (its file is `tenants/<id>.toml`: add warehouses there) and a first API key.
    Create {
        id: String,
        #[arg(long)]
        name: String,
        /// The Shopify shop this tenant is (my-shop.myshopify.com).
        #[arg(long)]
        shop: Option<String>,
    },
    /// Create or replace a tenant's configuration from a TOML file (the shape of `tenants/<id>.toml`).
    Put { file: PathBuf },
    /// List tenants.
    List,
    /// API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key for a tenant; the key is printed once.
    Create {
        tenant: String,
        #[arg(long)]
        name: String,
    },
    /// List a tenant's keys (never the keys themselves).
    List { tenant: String },
    /// Revoke a key by its id (`key_…`).
    Revoke { key_id: String },
}

#[cfg(feature = "aws")]
async fn open(args: &TenantArgs) -> Result<TenantRegistry, Box<dyn std::error::Error>> {
    use std::sync::Arc;
    let Some(name) = &args.table else {
        return Ok(TenantRegistry::open(&args.data_dir)?);
    };
    let aws = lastmile_platform::aws::config().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let clock = Arc::new(lastmile_platform::ports::clock::SystemClock);
    let table = lastmile_platform::aws::dynamodb::DynamoTable::new(client, name.clone(), clock);
    Ok(TenantRegistry::open_with_table(&args.data_dir, Arc::new(table)).await?)
}

#[cfg(not(feature = "aws"))]
async fn open(args: &TenantArgs) -> Result<TenantRegistry, Box<dyn std::error::Error>> {
    if args.table.is_some() {
        return Err("--table needs the DynamoDB adapter: build with `cargo build -p lastmile --features aws`".into());
    }
    Ok(TenantRegistry::open(&args.data_dir)?)
}

fn now() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default()
}

pub fn run(args: &TenantArgs) -> Result<i32, Box<dyn std::error::Error>> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(manage(args))
}

async fn manage(args: &TenantArgs) -> Result<i32, Box<dyn std::error::Error>> {
    let registry = open(args).await?;
    match &args.command {
        TenantCommand::Create { id, name, shop } => {
            if registry.tenant(id).is_some() {
                return Err(format!("tenant '{id}' exists").into());
            }
            let tenant = TenantConfig {
                name: name.clone(),
                shopify_domain: shop.clone(),
                warehouses: Vec::new(),
                ..TenantConfig::sample(id)
            };
            registry.put_tenant(tenant).await?;
            let (record, secret) = registry.create_key(id, "first", &now()).await?;
            match &args.table {
                Some(table) => println!(
                    "created tenant '{id}' in table {table}: write its configuration (warehouses…) to a file and \
                     load it with `lastmile tenant put --table {table} FILE`"
                ),
                None => println!(
                    "created tenant '{id}': add its warehouses in {}",
                    args.data_dir.join("tenants").join(format!("{id}.toml")).display()
                ),
            }
            println!("API key {} (shown once, stored hashed):\n  {secret}", record.id);
        }
        TenantCommand::Put { file } => {
            let tenant: TenantConfig = lastmile_platform::config::load(file)?;
            let id = tenant.id.clone();
            registry.put_tenant(tenant).await?;
            println!("tenant '{id}' configured from {}", file.display());
        }
        TenantCommand::List => {
            let mut tenants = registry.tenants();
            tenants.sort_by(|a, b| a.id.cmp(&b.id));
            println!("{:<24} {:<28} {:<32} {:>6}", "TENANT", "NAME", "SHOP", "KEYS");
            for t in tenants {
                let active = registry.keys(&t.id).iter().filter(|k| !k.revoked).count();
                let shop = t.shopify_domain.as_deref().unwrap_or("-");
                println!("{:<24} {:<28} {:<32} {:>6}", t.id, t.name, shop, active);
            }
        }
        TenantCommand::Key { command: KeyCommand::Create { tenant, name } } => {
            let (record, secret) = registry.create_key(tenant, name, &now()).await?;
            println!("API key {} for '{tenant}' (shown once, stored hashed):\n  {secret}", record.id);
        }
        TenantCommand::Key { command: KeyCommand::List { tenant } } => {
            if registry.tenant(tenant).is_none() {
                return Err(format!("no tenant '{tenant}'").into());
            }
            println!("{:<18} {:<16} {:<16} {:<22} {:<22} STATE", "KEY", "NAME", "SCOPE", "CREATED", "LAST USED");
            for k in registry.keys(tenant) {
                let scope = serde_json::to_value(k.scope)?.as_str().unwrap_or("").to_owned();
                let state = if k.revoked { "revoked" } else { "active" };
                let used = k.last_used_at.as_deref().unwrap_or("never");
                println!("{:<18} {:<16} {:<16} {:<22} {:<22} {state}", k.id, k.name, scope, k.created_at, used);
            }
        }
        TenantCommand::Key { command: KeyCommand::Revoke { key_id } } => {
            let record = registry.revoke_key(key_id).await?;
            println!("revoked {} ('{}' of tenant '{}')", record.id, record.name, record.tenant);
        }
    }
    Ok(0)
}
