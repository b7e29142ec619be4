//! `castellan load`: puts many tenants and clients into a store quickly, for benchmarks and
//! capacity tests. Clients go straight through the store adapter in batches (one transaction
//! each) with the same secret hashing and sealing the API uses; tenants are created the way the
//! system API creates them (their `admin`, `developer` and `default` servers).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use castellan_control::{AdminAccess, Control, need};
use castellan_domain::{Client, ClientId, ClientSettings, KeyType, ServerId, TenantId, seal};

use crate::config::LoadArgs;

/// Clients per store transaction.
const BATCH: usize = 2_000;

/// The client ids and secrets `load` writes: `{prefix}{n}` and the template with `{n}` replaced.
pub fn client_secret(template: &str, n: u64) -> String {
    template.replace("{n}", &n.to_string())
}

pub async fn run(control: Arc<Control>, args: &LoadArgs) -> anyhow::Result<()> {
    if !args.secret.contains("{n}") {
        bail!("--secret must contain {{n}} (each client gets its own secret)");
    }
    if client_secret(&args.secret, 0).len() < 20 {
        bail!("--secret must give secrets of at least 20 characters");
    }
    let started = Instant::now();
    let key_type = KeyType::parse(&args.tenant_key_type)
        .filter(|k| *k != KeyType::Ps)
        .context("--tenant-key-type must be rsa or ecdsa")?;
    let tenants: Vec<TenantId> = if args.tenants == 0 {
        vec![TenantId::parse(args.tenant.as_str()).context("--tenant")?]
    } else {
        // Key generation dominates: create a few tenants at a time, one per core and then some.
        let ids: Vec<String> = (0..args.tenants)
            .map(|i| format!("{}{i}", args.tenant_prefix))
            .collect();
        let mut made = Vec::new();
        for chunk in ids.chunks(8) {
            let mut set = tokio::task::JoinSet::new();
            for id in chunk {
                let (control, id) = (control.clone(), id.clone());
                set.spawn(async move {
                    control
                        .create_tenant_signing_with(&id, &id, key_type)
                        .await
                        .map_err(|e| anyhow::anyhow!("creating tenant {id}: {e}"))?;
                    anyhow::Ok(TenantId::parse(id)?)
                });
            }
            while let Some(r) = set.join_next().await {
                made.push(r??);
            }
        }
        made.sort();
        made
    };
    let aid = ServerId::parse(args.server.as_str()).context("--server")?;
    if let Some(key_type) = &args.create_server {
        for tid in &tenants {
            let req = serde_json::from_value(serde_json::json!({"id": aid, "key_type": key_type}))
                .context("--create-server")?;
            control
                .create_server(
                    &AdminAccess::for_operator(tid.clone()).allow::<need::ServerWrite>()?,
                    req,
                )
                .await
                .map_err(|e| anyhow::anyhow!("creating server {aid} in tenant {tid}: {e}"))?;
        }
    }
    let master = control.engine().master();
    let store = control.store();
    let now = control.engine().now();
    let mut written = 0u64;
    for tid in &tenants {
        let mut n = 0;
        while n < args.clients {
            let end = (n + BATCH as u64).min(args.clients);
            let mut batch = Vec::with_capacity((end - n) as usize);
            for i in n..end {
                let id = ClientId::parse(format!("{}{i}", args.prefix)).context("--prefix")?;
                let secret = client_secret(&args.secret, i);
                let hash = castellan_oauth::secrets::hash_secret(master, &secret, true).await?;
                let sealed = master.seal(&seal::client_secret(tid, &id), secret.as_bytes())?;
                batch.push(Client {
                    tenant_id: tid.clone(),
                    server_id: aid.clone(),
                    name: id.to_string(),
                    id,
                    system: false,
                    grant_types: vec!["client_credentials".into()],
                    token_endpoint_auth_method: "client_secret_basic".into(),
                    secret_hash: Some(hash),
                    secret_sealed: Some(sealed),
                    settings: ClientSettings::default(),
                    created_at: now,
                });
            }
            store
                .create_clients(&batch)
                .await
                .map_err(|e| anyhow::anyhow!("tenant {tid}, clients {n}..{end}: {e}"))?;
            written += batch.len() as u64;
            n = end;
            if written % 100_000 < BATCH as u64 {
                tracing::info!(clients = written, "clients written");
            }
        }
    }
    println!(
        "loaded {} tenant(s) with {} client(s) each ({written} clients) in {:.1} s",
        tenants.len(),
        args.clients,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
