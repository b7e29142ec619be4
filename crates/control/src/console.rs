//! The admin console's own OAuth client: `console`, a public system client of each tenant's
//! `admin` server (authorization code with PKCE, RFC 7636), whose one redirect URI is the
//! console's callback under the public URL. People sign in to the console through the admin
//! server's login page; the console then acts with the access token that sign-in yields, so the
//! permission model decides what each person sees and may change.

use castellan_domain::{ADMIN_SERVER, Client, ClientId, ClientSettings, ServerId, TenantId};

use crate::{Control, ControlError, ControlResult};

/// The console's client id on every tenant's admin server.
pub const CONSOLE_CLIENT: &str = "console";

/// Whether `c` is the console's own client (which no API may change).
pub(crate) fn is_console_client(c: &Client) -> bool {
    c.system && c.id.as_str() == CONSOLE_CLIENT && c.server_id.as_str() == ADMIN_SERVER
}

impl Control {
    /// Where the admin server sends a person back to the console of tenant `tid`.
    pub fn console_redirect_uri(&self, tid: &TenantId) -> String {
        format!("{}/console/{tid}/callback", self.public_url.trim_end_matches('/'))
    }

    /// Where the admin server's logout sends a person who signed out of the console.
    pub fn console_signed_out_uri(&self, tid: &TenantId) -> String {
        format!("{}/console/{tid}/signed-out", self.public_url.trim_end_matches('/'))
    }

    /// Makes sure tenant `tid`'s admin server has the console client, with the callback of the
    /// current public URL as its only redirect URI (created on first use, corrected when the
    /// public URL changed). Returns its id. `NotFound` when the tenant does not exist.
    pub async fn ensure_console_client(&self, tid: &TenantId) -> ControlResult<ClientId> {
        let cid = ClientId::parse(CONSOLE_CLIENT).map_err(ControlError::internal)?;
        let aid = ServerId::parse(ADMIN_SERVER).map_err(ControlError::internal)?;
        if self.store.get_server(tid, &aid).await?.is_none() {
            return Err(ControlError::NotFound {
                what: "tenant",
                id: tid.to_string(),
            });
        }
        let redirect = self.console_redirect_uri(tid);
        let signed_out = self.console_signed_out_uri(tid);
        match self.store.get_client(tid, &cid).await? {
            Some(c)
                if c.server_id == aid
                    && c.settings.redirect_uris == [redirect.clone()]
                    && c.settings.post_logout_redirect_uris == [signed_out.clone()] =>
            {
                Ok(cid)
            }
            Some(mut c) if c.server_id == aid && c.system => {
                c.settings.redirect_uris = vec![redirect];
                c.settings.post_logout_redirect_uris = vec![signed_out];
                let changes = self.store.update_client(&c).await?;
                self.engine.apply(&changes).await;
                Ok(cid)
            }
            // A client of that id made by someone else is never taken over.
            Some(_) => Err(ControlError::Refused(format!(
                "tenant {tid} has a client named {CONSOLE_CLIENT} that is not the console's; \
                 rename it to use the console"
            ))),
            None => {
                let c = self.console_client(tid, &cid, &aid, redirect, signed_out);
                match self.store.create_client(&c).await {
                    Ok(changes) => {
                        self.engine.apply(&changes).await;
                        Ok(cid)
                    }
                    // Another request (or node) made it first.
                    Err(castellan_store::StoreError::Conflict(_)) => Ok(cid),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    fn console_client(
        &self,
        tid: &TenantId,
        cid: &ClientId,
        aid: &ServerId,
        redirect: String,
        signed_out: String,
    ) -> Client {
        Client {
            tenant_id: tid.clone(),
            server_id: aid.clone(),
            id: cid.clone(),
            name: "Castellan console".into(),
            system: true,
            grant_types: vec!["authorization_code".into()],
            token_endpoint_auth_method: "none".into(),
            secret_hash: None,
            secret_sealed: None,
            settings: ClientSettings {
                description: Some(format!(
                    "The admin console of tenant {tid}: people of the admin server sign in to it."
                )),
                response_types: vec!["code".into()],
                redirect_uris: vec![redirect],
                post_logout_redirect_uris: vec![signed_out],
                public: true,
                // The person signs in to the console itself: there is nothing to consent to.
                trusted: true,
                ..ClientSettings::default()
            },
            created_at: self.clock.now(),
        }
    }
}
