//! The admin console in headless Chromium: an administrator signs in through the admin server's
//! login page, creates a server, a scope and a client (the secret shown once), edits a token
//! lifetime, imports a specification, tries a policy, verifies the privacy ledger and signs out;
//! a person holding only `client.read` sees clients without controls, and a POST crafted in
//! their browser is refused in words. Every page is checked with axe-core's WCAG level A rules
//! (the npm package, run in the page), and the README's screenshots are taken on the way
//! (`target/console-screenshots/`; the README's into `docs/images/` with
//! `CASTELLAN_UPDATE_SCREENSHOTS=1`).

use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::browser::{chromedriver, chromium_sized, node_package};
use crate::console::console_people;
use crate::helpers::*;

type Result<T> = std::result::Result<T, fantoccini::error::CmdError>;

/// axe-core's level A rules (WCAG 2.0 and 2.1) on the current page: the violations, as
/// `rule: element, …` lines (and one line if no rule passed: axe did not run).
async fn accessibility(b: &Client, axe: &str) -> Result<Vec<String>> {
    let script = format!(
        "{axe}\nconst done = arguments[arguments.length - 1];\n\
         axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag21a']}}}})\n\
         .then(r => done(r.passes.length === 0 ? ['axe ran no rule'] :\n\
           r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\n\
         .catch(e => done(['axe failed: ' + e]));"
    );
    let v = b.execute_async(&script, vec![]).await?;
    Ok(serde_json::from_value(v).unwrap_or_else(|_| vec!["axe answered nothing".into()]))
}

/// The screenshots the README shows.
const README_SHOTS: &[&str] = &[
    "console-servers",
    "console-client-form",
    "console-secret",
    "console-policy",
    "console-refused",
];

/// Checks the page with axe and keeps a screenshot of it named `name`.
async fn checked(b: &Client, axe: &str, name: &str, seen: &mut Vec<String>) -> Result<()> {
    for v in accessibility(b, axe).await? {
        seen.push(format!("{name}: {v}"));
    }
    let png = b.screenshot().await?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if README_SHOTS.contains(&name) && std::env::var("CASTELLAN_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(root.join(format!("docs/images/{name}.png")), &png).unwrap();
    }
    Ok(())
}

async fn text(b: &Client) -> Result<String> {
    b.find(Locator::Css("main")).await?.text().await
}

async fn fill(b: &Client, css: &str, value: &str) -> Result<()> {
    let e = b.find(Locator::Css(css)).await?;
    e.clear().await?;
    e.send_keys(value).await
}

/// Clicks the button whose text is `label`.
async fn press(b: &Client, label: &str) -> Result<()> {
    b.find(Locator::XPath(&format!("//button[normalize-space()='{label}']")))
        .await?
        .click()
        .await
}

/// Signs in on the admin server's login page the console sent the browser to.
async fn sign_in(b: &Client, user: &str, password: &str) -> Result<()> {
    b.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#username"))
        .await?;
    fill(b, "#username", user).await?;
    fill(b, "#password", password).await?;
    b.find(Locator::Css("button[type=submit]")).await?.click().await
}

async fn wait_for_text(b: &Client, wanted: &str) -> Result<String> {
    for _ in 0..100 {
        if let Ok(t) = text(b).await
            && t.contains(wanted)
        {
            return Ok(t);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let t = text(b).await.unwrap_or_default();
    panic!("the page never said {wanted:?}: {t}");
}

const SPEC: &str = r#"{"openapi": "3.0.0", "info": {"title": "Orders", "version": "1"},
 "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {"clientCredentials":
   {"tokenUrl": "https://shop.example/token", "scopes": {"orders.write": "Place orders"}}}}}},
 "paths": {"/orders": {"get": {"responses": {"200": {"description": "ok"}}},
   "post": {"security": [{"oauth": ["orders.write"]}], "responses": {"201": {"description": "made"}}}}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_runs_the_tenant_from_the_console_in_chromium() {
    let Some(driver_path) = chromedriver() else {
        eprintln!("skipped: chromedriver not installed (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let Some(node_dir) = node_package("axe-core") else {
        eprintln!("skipped: CASTELLAN_NODE_PACKAGES not set (set CASTELLAN_E2E=1 to require it)");
        return;
    };
    let axe = std::fs::read_to_string(node_dir.join("node_modules/axe-core/axe.min.js")).unwrap();
    let app = spawn_app().await;
    console_people(&app).await;
    let console = format!("{}/console/default", app.base);
    let (_driver, b) = chromium_sized(&driver_path, "1280,900").await;
    let mut violations = Vec::new();
    let outcome = async {
        // Signing in: the console sends the browser to the admin server and back.
        b.goto(&format!("{console}/")).await?;
        sign_in(&b, "root", "root-password-1").await?;
        wait_for_text(&b, "Authorization servers").await?;
        checked(&b, &axe, "console-servers", &mut violations).await?;

        // A server, then its access token lifetime.
        fill(&b, "#id", "shop").await?;
        fill(&b, "#name", "Shop").await?;
        press(&b, "Create server").await?;
        wait_for_text(&b, "The server was created.").await?;
        fill(&b, "#access_token_ttl", "soon").await?;
        press(&b, "Save settings").await?;
        let error = b
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("#access_token_ttl-error"))
            .await?
            .text()
            .await?;
        assert!(!error.is_empty(), "the field's error is shown next to it");
        checked(&b, &axe, "console-field-error", &mut violations).await?;
        fill(&b, "#access_token_ttl", "10m").await?;
        press(&b, "Save settings").await?;
        wait_for_text(&b, "The settings were saved.").await?;
        let ttl = b.find(Locator::Css("#access_token_ttl")).await?.prop("value").await?;
        assert_eq!(ttl.as_deref(), Some("10m0s"));
        checked(&b, &axe, "console-server", &mut violations).await?;
        // Keys: rotate now, then the revocation's confirmation (kept: Keep it).
        press(&b, "Rotate now").await?;
        wait_for_text(&b, "A next key is published").await?;
        checked(&b, &axe, "console-keys", &mut violations).await?;
        b.find(Locator::Css("a[href*='/keys/'][href$='/revoke']"))
            .await?
            .click()
            .await?;
        wait_for_text(&b, "Revoke key").await?;
        checked(&b, &axe, "console-revoke-key", &mut violations).await?;

        // A scope.
        b.goto(&format!("{console}/servers/shop/scopes")).await?;
        fill(&b, "#name", "orders.read").await?;
        fill(&b, "#display_name", "Read your orders").await?;
        press(&b, "Create scope").await?;
        wait_for_text(&b, "The scope was created.").await?;
        checked(&b, &axe, "console-scopes", &mut violations).await?;

        // A client: the form explains each field; the secret is shown once.
        b.goto(&format!("{console}/servers/shop/clients")).await?;
        b.find(Locator::LinkText("New client")).await?.click().await?;
        wait_for_text(&b, "New client of shop").await?;
        checked(&b, &axe, "console-client-form", &mut violations).await?;
        fill(&b, "#client_id", "backend").await?;
        fill(&b, "#client_name", "Shop backend").await?;
        fill(&b, "#scopes", "orders.read").await?;
        press(&b, "Create client").await?;
        wait_for_text(&b, "Copy the secret now").await?;
        let secret = b.find(Locator::Css("#client-secret")).await?.text().await?;
        assert!(secret.len() >= 32, "{secret}");
        checked(&b, &axe, "console-secret", &mut violations).await?;
        b.find(Locator::LinkText("Open the client")).await?.click().await?;
        let shown = wait_for_text(&b, "Client Shop backend").await?;
        assert!(!shown.contains(&secret), "the secret is shown only once");

        // A service and its specification.
        b.goto(&format!("{console}/services?server=shop")).await?;
        fill(&b, "#name", "Orders API").await?;
        press(&b, "Create service").await?;
        wait_for_text(&b, "Import its specification").await?;
        b.find(Locator::Css("#text")).await?.send_keys(SPEC).await?;
        press(&b, "Import").await?;
        let imported = wait_for_text(&b, "The specification was imported.").await?;
        assert!(imported.contains("/orders"), "{imported}");
        checked(&b, &axe, "console-service", &mut violations).await?;

        // A policy, tried.
        b.goto(&format!("{console}/policies")).await?;
        checked(&b, &axe, "console-policies", &mut violations).await?;
        b.find(Locator::Css("table tbody tr a")).await?.click().await?;
        wait_for_text(&b, "Try it").await?;
        press(&b, "Evaluate").await?;
        wait_for_text(&b, "Result:").await?;
        checked(&b, &axe, "console-policy", &mut violations).await?;

        // The ledger, verified.
        b.goto(&format!("{console}/ledger")).await?;
        press(&b, "Verify the ledger").await?;
        wait_for_text(&b, "The ledger is intact").await?;
        checked(&b, &axe, "console-ledger", &mut violations).await?;

        // The audit trail, verified.
        b.goto(&format!("{console}/audit")).await?;
        press(&b, "Verify the trail").await?;
        wait_for_text(&b, "The audit trail is intact").await?;
        checked(&b, &axe, "console-audit", &mut violations).await?;

        // A person who signs in to shop with a password.
        b.goto(&format!("{console}/servers/shop/people")).await?;
        fill(&b, "#username", "peter").await?;
        fill(&b, "#password", "peter-password-1").await?;
        fill(&b, "#groups", "buyers").await?;
        press(&b, "Add person").await?;
        wait_for_text(&b, "The person was added.").await?;
        checked(&b, &axe, "console-people", &mut violations).await?;

        // Claims and consents.
        b.goto(&format!("{console}/servers/shop/claims")).await?;
        fill(&b, "#name", "dept").await?;
        fill(&b, "#mapping", "dept").await?;
        press(&b, "Create claim").await?;
        wait_for_text(&b, "The claim was created.").await?;
        checked(&b, &axe, "console-claims", &mut violations).await?;
        b.goto(&format!("{console}/consents")).await?;
        fill(&b, "#id", "marketing").await?;
        fill(&b, "#name", "Marketing e-mails").await?;
        press(&b, "Create consent").await?;
        wait_for_text(&b, "The consent was created.").await?;
        // A consent action that requires it.
        fill(&b, "#action-id", "signup").await?;
        fill(&b, "#action-name", "shop_signup").await?;
        b.find(Locator::Css("input[name=consents][value=marketing]"))
            .await?
            .click()
            .await?;
        b.find(Locator::Css("input[name=required][value=marketing]"))
            .await?
            .click()
            .await?;
        press(&b, "Create consent action").await?;
        wait_for_text(&b, "The consent action was created.").await?;
        assert!(text(&b).await?.contains("marketing (required)"));
        checked(&b, &axe, "console-consents", &mut violations).await?;

        // A gateway; the roles.
        b.goto(&format!("{console}/gateways?server=shop")).await?;
        fill(&b, "#name", "Edge").await?;
        press(&b, "Create gateway").await?;
        wait_for_text(&b, "Download its package").await?;
        checked(&b, &axe, "console-gateways", &mut violations).await?;
        b.goto(&format!("{console}/roles")).await?;
        wait_for_text(&b, "Readers").await?;
        checked(&b, &axe, "console-roles", &mut violations).await?;
        b.goto(&format!("{console}/sts-clients")).await?;
        fill(&b, "#clientId", "reporting").await?;
        fill(&b, "#permissions", "client.read").await?;
        press(&b, "Map client").await?;
        wait_for_text(&b, "The mapping was created.").await?;
        checked(&b, &axe, "console-sts-clients", &mut violations).await?;

        // Signing out: the console, then the admin server (the person confirms there).
        press(&b, "Sign out").await?;
        b.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("button[value=yes]"))
            .await?
            .click()
            .await?;
        wait_for_text(&b, "You are signed out").await?;
        checked(&b, &axe, "console-signed-out", &mut violations).await?;

        // A reader: clients without controls; a POST crafted in the browser is refused in words.
        b.goto(&format!("{console}/servers/shop/clients")).await?;
        sign_in(&b, "reader", "reader-password-1").await?;
        let page = wait_for_text(&b, "Clients of shop").await?;
        assert!(page.contains("Shop backend") && !page.contains("New client"), "{page}");
        checked(&b, &axe, "console-reader", &mut violations).await?;
        b.find(Locator::LinkText("Shop backend")).await?.click().await?;
        let page = wait_for_text(&b, "Client Shop backend").await?;
        assert!(
            !page.contains("Save client") && !page.contains("Delete client"),
            "{page}"
        );
        b.execute(
            "const f = document.createElement('form'); f.method = 'post'; f.action = location.pathname + '/delete';\
             const t = document.createElement('input'); t.type = 'hidden'; t.name = 'csrf_token';\
             t.value = document.querySelector('input[name=csrf_token]').value; f.appendChild(t);\
             document.body.appendChild(f); f.submit();",
            vec![],
        )
        .await?;
        let refused = wait_for_text(&b, "You may not do this").await?;
        assert!(refused.contains("client.write"), "{refused}");
        checked(&b, &axe, "console-refused", &mut violations).await?;

        // A system administrator: the tenants.
        press(&b, "Sign out").await?;
        b.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("button[value=yes]"))
            .await?
            .click()
            .await?;
        wait_for_text(&b, "You are signed out").await?;
        b.goto(&format!("{console}/tenants")).await?;
        sign_in(&b, "ops", "ops-password-1").await?;
        wait_for_text(&b, "Create a tenant").await?;
        fill(&b, "#id", "acme").await?;
        press(&b, "Create tenant").await?;
        wait_for_text(&b, "Copy its admin client's secret now").await?;
        checked(&b, &axe, "console-tenants", &mut violations).await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = b.close().await;
    if let Err(e) = outcome {
        panic!("browser: {e}");
    }
    assert!(violations.is_empty(), "accessibility (WCAG level A): {violations:#?}");
    // The crafted POST changed nothing.
    assert_eq!(
        app.admin(reqwest::Method::GET, "/clients/backend", None).await.status,
        200
    );
}
