//! Both migration trees describe one schema: the same tables, the same columns with the same
//! nullability and storage class, the same primary keys and the same indexes, unique or not. A
//! migration added to one adapter and not the other, or written differently, fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use castellan_store_postgres::{PostgresStore, testing};
use castellan_store_sqlite::SqliteStore;
use sqlx::Row;

/// table → column → (kind, nullable); and table → primary key columns.
#[derive(Debug, Default, PartialEq)]
struct Schema {
    columns: BTreeMap<String, BTreeMap<String, (String, bool)>>,
    primary_keys: BTreeMap<String, Vec<String>>,
    /// (table, columns in order, unique) of every index but the primary key's.
    indexes: std::collections::BTreeSet<(String, Vec<String>, bool)>,
}

/// What SQLite can tell of a column: its storage class. JSON is text there, booleans and times
/// are integers (Unix seconds), so PostgreSQL's `jsonb`, `boolean` and `timestamptz` map onto them.
fn pg_kind(t: &str) -> String {
    match t {
        "text" | "character varying" | "jsonb" | "json" => "text",
        "bytea" => "blob",
        "boolean" | "integer" | "bigint" | "smallint" | "timestamp with time zone" => "integer",
        other => other,
    }
    .into()
}

fn sqlite_kind(t: &str) -> String {
    match t.to_ascii_uppercase().as_str() {
        "TEXT" => "text",
        "BLOB" => "blob",
        "INTEGER" | "BIGINT" | "BOOLEAN" => "integer",
        other => return other.to_owned(),
    }
    .into()
}

async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    SqliteStore::open(&path).await.unwrap().migrate().await.unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut s = Schema::default();
    for t in tables {
        let rows = sqlx::query(&format!("PRAGMA table_info(\"{t}\")"))
            .fetch_all(&pool)
            .await
            .unwrap();
        let mut pk = Vec::new();
        for r in rows {
            let name: String = r.get("name");
            let ty: String = r.get("type");
            let notnull: i64 = r.get("notnull");
            let pk_at: i64 = r.get("pk");
            if pk_at > 0 {
                pk.push((pk_at, name.clone()));
            }
            let kind = sqlite_kind(&ty);
            s.columns
                .entry(t.clone())
                .or_default()
                .insert(name, (kind, notnull == 0 && pk_at == 0));
        }
        pk.sort();
        s.primary_keys
            .insert(t.clone(), pk.into_iter().map(|(_, n)| n).collect());
        for idx in sqlx::query(&format!("PRAGMA index_list(\"{t}\")"))
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            let (name, unique, origin): (String, i64, String) = (idx.get("name"), idx.get("unique"), idx.get("origin"));
            if origin == "pk" {
                continue;
            }
            let cols = sqlx::query(&format!("PRAGMA index_info(\"{name}\")"))
                .fetch_all(&pool)
                .await
                .unwrap();
            let cols = cols.iter().map(|c| c.get::<String, _>("name")).collect();
            s.indexes.insert((t.clone(), cols, unique == 1));
        }
    }
    s
}

async fn postgres_schema(server: &str) -> Schema {
    let url = testing::fresh_database(server).await.unwrap();
    PostgresStore::connect(&url).await.unwrap().migrate().await.unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, is_nullable::text AS n \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut s = Schema::default();
    for r in rows {
        let (t, c, ty, n): (String, String, String, String) = (r.get("t"), r.get("c"), r.get("ty"), r.get("n"));
        s.columns.entry(t).or_default().insert(c, (pg_kind(&ty), n == "YES"));
    }
    let rows = sqlx::query(
        "SELECT tc.table_name::text AS t, k.column_name::text AS c FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name \
           AND k.table_schema = tc.table_schema \
         WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public' \
           AND tc.table_name NOT LIKE '\\_sqlx%' ORDER BY tc.table_name, k.ordinal_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for t in s.columns.keys() {
        s.primary_keys.insert(t.clone(), Vec::new());
    }
    for r in rows {
        s.primary_keys
            .get_mut(&r.get::<String, _>("t"))
            .unwrap()
            .push(r.get("c"));
    }
    let rows = sqlx::query(
        "SELECT t.relname::text AS t, i.indisunique AS u, \
           array_agg(a.attname::text ORDER BY k.n) AS cols \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE ns.nspname = 'public' AND NOT i.indisprimary AND t.relname NOT LIKE '\\_sqlx%' \
         GROUP BY i.indexrelid, t.relname, i.indisunique",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for r in rows {
        s.indexes.insert((r.get("t"), r.get("cols"), r.get("u")));
    }
    s
}

#[tokio::test]
async fn both_migration_trees_make_the_same_schema() {
    let Some(server) = testing::server_url_or_skip("both_migration_trees_make_the_same_schema") else {
        return;
    };
    let lite = sqlite_schema().await;
    let pg = postgres_schema(&server).await;
    let mut differences = Vec::new();
    let tables: std::collections::BTreeSet<&String> = lite.columns.keys().chain(pg.columns.keys()).collect();
    for t in tables {
        let (l, p) = (lite.columns.get(t), pg.columns.get(t));
        let (Some(l), Some(p)) = (l, p) else {
            differences.push(format!("table {t}: SQLite {}, PostgreSQL {}", l.is_some(), p.is_some()));
            continue;
        };
        let cols: std::collections::BTreeSet<&String> = l.keys().chain(p.keys()).collect();
        for c in cols {
            if l.get(c) != p.get(c) {
                differences.push(format!("{t}.{c}: SQLite {:?}, PostgreSQL {:?}", l.get(c), p.get(c)));
            }
        }
        if lite.primary_keys.get(t) != pg.primary_keys.get(t) {
            differences.push(format!(
                "{t} primary key: SQLite {:?}, PostgreSQL {:?}",
                lite.primary_keys.get(t),
                pg.primary_keys.get(t)
            ));
        }
    }
    for i in lite.indexes.symmetric_difference(&pg.indexes) {
        let on = if lite.indexes.contains(i) {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        differences.push(format!("index on {}{:?} (unique: {}) only on {on}", i.0, i.1, i.2));
    }
    assert!(
        differences.is_empty(),
        "the schemas differ:\n{}",
        differences.join("\n")
    );
}

/// The two trees hold migrations of the same names, so a change made to one adapter's schema is
/// made to the other's in the same step (this one needs no PostgreSQL server).
#[test]
fn both_migration_trees_have_the_same_steps() {
    let names = |dir: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let pg = names("migrations");
    assert!(pg.len() >= 11, "{pg:?}");
    assert_eq!(pg, names("../store-sqlite/migrations"));
}

/// PostgreSQL keeps times as Unix seconds and JSON as text, as SQLite does (one SQL for both):
/// no column of another representation is left, and a database written before the conversion
/// reads back the same after it.
#[tokio::test]
async fn postgres_data_survives_the_conversion_to_one_representation() {
    use castellan_store::TenantStore;
    let Some(server) = testing::server_url_or_skip("postgres_data_survives_the_conversion_to_one_representation")
    else {
        return;
    };
    let url = testing::fresh_database(&server).await.unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut before = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    let all = before.migrations.len();
    before.migrations = before.migrations[..11].to_vec().into();
    before.run(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO tenants (id, name, authentication_context_settings, jwks, created_at) \
         VALUES ('old', 'Old', '{\"a\": [1]}', '{\"keys\": []}', to_timestamp(1700000123))",
    )
    .execute(&pool)
    .await
    .unwrap();
    let store = PostgresStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied as usize, all);
    let t = store
        .get_tenant(&castellan_domain::TenantId::parse("old").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.created_at, 1_700_000_123);
    assert_eq!(t.name, "Old");
    let left: Vec<String> = sqlx::query_scalar(
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' \
           AND data_type IN ('timestamp with time zone', 'jsonb', 'json')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(left.is_empty(), "{left:?}");
}
