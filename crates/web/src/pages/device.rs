//! The verification page of the device flow (RFC 8628 §3.3): the person types the user code their
//! device shows (or arrives with it filled in from `verification_uri_complete`), then signs in and
//! decides on the consent page as in any authorization; the page says how it ended.

use castellan_oauth::device::{DEVICE_CODE, DeviceOutcome, UserCodeError};

use super::*;

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    brand: Brand,
    action: String,
    csrf: String,
    user_code: String,
    error: Option<String>,
}

/// The code entry form.
fn device_view(
    st: &AppState,
    rt: &ServerRuntime,
    jar: CookieJar,
    user_code: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (jar, csrf) = csrf(st, rt, jar);
    let brand = Brand::of(Some(rt));
    let logo = brand.logo_uri.clone();
    let html = render(&DevicePage {
        brand,
        action: path_of(rt, "/device"),
        csrf,
        // Only what a code can hold is shown back.
        user_code: user_code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(16)
            .collect(),
        error,
    });
    (jar, page(status, html, logo.as_deref(), &[], None)).into_response()
}

/// The server, if it offers the device flow.
async fn device_server(st: &AppState, ids: &(String, String)) -> Result<Arc<ServerRuntime>, Response> {
    let rt = runtime(st, &ids.0, &ids.1).await?;
    if !rt.server.settings.grant_types.iter().any(|g| g == DEVICE_CODE) {
        return Err(error_page(
            Some(&rt),
            StatusCode::NOT_FOUND,
            "This server does not offer signing in on other devices.",
        ));
    }
    Ok(rt)
}

/// `GET {issuer}/device[?user_code=…|?done=…]`.
pub(super) async fn device_page(
    State(st): State<AppState>,
    Path(ids): Path<(String, String)>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    let rt = match device_server(&st, &ids).await {
        Ok(rt) => rt,
        Err(r) => return r,
    };
    let form = match params(&Method::GET, query.as_deref(), &HeaderMap::new(), &Bytes::new()) {
        Ok(f) => f,
        Err(m) => return error_page(Some(&rt), StatusCode::BAD_REQUEST, &m),
    };
    if let Some(done) = form.get("done").ok().flatten().and_then(DeviceOutcome::parse) {
        let (title, text) = match done {
            DeviceOutcome::Approved => (
                "You are signed in on your device",
                "You can close this page and go back to your device.",
            ),
            DeviceOutcome::Denied => (
                "Access denied",
                "The device was not given access. You can close this page.",
            ),
            DeviceOutcome::Gone => (
                "This code can no longer be used",
                "It has expired or was already used. Start again on your device to get a new code.",
            ),
        };
        let status = if done == DeviceOutcome::Gone {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        return message(Some(&rt), status, title, text, None);
    }
    let typed = form.get("user_code").ok().flatten().unwrap_or("");
    device_view(&st, &rt, jar, typed, None, StatusCode::OK)
}

/// `POST {issuer}/device`: the typed user code; on to sign-in and consent.
pub(super) async fn device_submit(
    State(st): State<AppState>,
    Path(ids): Path<(String, String)>,
    ClientAddr(addr): ClientAddr,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rt = match device_server(&st, &ids).await {
        Ok(rt) => rt,
        Err(r) => return r,
    };
    let form = match params(&Method::POST, None, &headers, &body) {
        Ok(f) => f,
        Err(m) => return error_page(Some(&rt), StatusCode::BAD_REQUEST, &m),
    };
    let typed = form.get("user_code").ok().flatten().unwrap_or("").to_owned();
    if !csrf_ok(&st, &rt, &jar, &form) {
        let msg = "This form expired or was not sent from this page. Please try again.";
        return device_view(&st, &rt, jar, &typed, Some(msg.into()), StatusCode::FORBIDDEN);
    }
    let req = match st.control.engine().device_request(&rt, &typed, addr).await {
        Ok(req) => req,
        Err(UserCodeError::Unknown) => {
            let msg = "That code is not right, or it has expired. Check the code on your device and try again.";
            return device_view(&st, &rt, jar, &typed, Some(msg.into()), StatusCode::BAD_REQUEST);
        }
        Err(UserCodeError::Throttled(wait)) => {
            let msg = format!("Too many wrong codes. For your security, {}.", try_again_in(wait));
            return device_view(&st, &rt, jar, &typed, Some(msg), StatusCode::TOO_MANY_REQUESTS);
        }
        Err(UserCodeError::Unavailable(e)) => return unavailable(Some(&rt), &e),
    };
    begin(&st, &rt, &jar, &req).await
}
