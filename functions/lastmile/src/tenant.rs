//! `lastmile tenant …`: tenants and their API keys in a data directory. A key is printed once when created and
//! stored only as its hash; several may be active at once, so a key is rotated by creating the new one, moving
//! the callers, then revoking the old one. A running `lastmile dev` sees key changes at its next request.

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

fn now() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default()
}

pub fn run(args: &TenantArgs) -> Result<i32, Box<dyn std::error::Error>> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(manage(args))
}

async fn manage(args: &TenantArgs) -> Result<i32, Box<dyn std::error::Error>> {
    let registry = TenantRegistry::open(&args.data_dir)?;
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
            println!(
                "created tenant '{id}': add its warehouses in {}",
                args.data_dir.join("tenants").join(format!("{id}.toml")).display()
            );
            println!("API key {} (shown once, stored hashed):\n  {secret}", record.id);
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
