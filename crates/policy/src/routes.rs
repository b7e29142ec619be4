//! Which API of a service a request hits: the service's path templates (`/pets/{petId}`) compiled
//! once into a radix-tree router (`matchit`), looked up per request. Static segments win over
//! parameters (`/pets/mine` over `/pets/{id}`), a trailing slash is not significant, and
//! percent-encoded unreserved characters are decoded before matching (RFC 3986 §6.2.2.2); an
//! encoded `/` stays inside its segment.

use std::collections::HashMap;

/// What a matched API says about the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTarget {
    pub api_id: String,
    pub policy_id: Option<String>,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched<'a> {
    Api(&'a RouteTarget),
    /// A path of the service, but not with this method.
    WrongMethod,
    NoRoute,
}

/// A path template that cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path {path:?}: {reason}")]
pub struct RouteError {
    pub path: String,
    pub reason: String,
}

/// One service's APIs, compiled.
#[derive(Debug, Default)]
pub struct ServiceRoutes {
    router: matchit::Router<usize>,
    /// Per routed path: method → target.
    methods: Vec<HashMap<String, RouteTarget>>,
    by_template: HashMap<String, usize>,
}

/// A template with its parameters renamed by position (`/pets/{p0}`), so that two APIs naming the
/// same parameter differently share one route; a trailing slash dropped.
fn normalize_template(path: &str) -> Result<String, RouteError> {
    let err = |reason: &str| RouteError {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if !path.starts_with('/') {
        return Err(err("must start with /"));
    }
    let mut out = String::with_capacity(path.len());
    let mut n = 0;
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed || name.is_empty() || name.contains('{') || name.contains('/') {
                    return Err(err("a parameter must be {name}"));
                }
                out.push_str(&format!("{{p{n}}}"));
                n += 1;
            }
            '}' => return Err(err("unbalanced }")),
            c => out.push(c),
        }
    }
    Ok(trim_slash(&out).to_owned())
}

fn trim_slash(p: &str) -> &str {
    if p.len() > 1 {
        p.strip_suffix('/').unwrap_or(p)
    } else {
        p
    }
}

/// Decodes `%XX` of unreserved characters; everything else stays as sent.
fn normalize_path(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains('%') {
        return std::borrow::Cow::Borrowed(trim_slash(path));
    }
    let b = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = path.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
            && (v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~'))
        {
            out.push(v as char);
            i += 3;
            continue;
        }
        out.push(b[i] as char);
        i += 1;
    }
    std::borrow::Cow::Owned(trim_slash(&out).to_owned())
}

impl ServiceRoutes {
    /// Compiles `(method, path template, target)` triples.
    pub fn build<'a>(apis: impl IntoIterator<Item = (&'a str, &'a str, RouteTarget)>) -> Result<Self, RouteError> {
        let mut r = Self::default();
        for (method, path, target) in apis {
            r.add(method, path, target)?;
        }
        Ok(r)
    }

    /// Adds one API. Refused (and nothing added) when the template cannot be routed, conflicts
    /// with one already added, or names a method and template (parameter names aside) already
    /// added.
    pub fn add(&mut self, method: &str, path: &str, target: RouteTarget) -> Result<(), RouteError> {
        let template = normalize_template(path)?;
        let method = method.to_ascii_uppercase();
        if let Some(i) = self.by_template.get(&template)
            && self.methods[*i].contains_key(&method)
        {
            return Err(RouteError {
                path: path.to_owned(),
                reason: format!("{method} on this path is already an API (parameter names aside)"),
            });
        }
        let slot = match self.by_template.get(&template) {
            Some(i) => *i,
            None => {
                let i = self.methods.len();
                self.router.insert(template.clone(), i).map_err(|e| RouteError {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
                self.methods.push(HashMap::new());
                self.by_template.insert(template, i);
                i
            }
        };
        self.methods[slot].insert(method, target);
        Ok(())
    }

    /// Checks that a template can be routed (for a 422 at write time).
    pub fn check_template(path: &str) -> Result<(), RouteError> {
        let template = normalize_template(path)?;
        let mut r = matchit::Router::new();
        r.insert(template, ()).map_err(|e| RouteError {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// The API `method path` hits (`path` without the query).
    pub fn find(&self, method: &str, path: &str) -> Matched<'_> {
        let path = normalize_path(path);
        let Ok(m) = self.router.at(&path) else {
            return Matched::NoRoute;
        };
        let methods = &self.methods[*m.value];
        match methods.get(method).or_else(|| {
            let upper = method.to_ascii_uppercase();
            methods.get(&upper)
        }) {
            Some(t) => Matched::Api(t),
            None => Matched::WrongMethod,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn t(id: &str) -> RouteTarget {
        RouteTarget {
            api_id: id.into(),
            policy_id: None,
        }
    }

    fn routes() -> ServiceRoutes {
        ServiceRoutes::build([
            ("GET", "/pets", t("list")),
            ("POST", "/pets", t("create")),
            ("GET", "/pets/{petId}", t("get")),
            ("DELETE", "/pets/{id}", t("delete")),
            ("GET", "/pets/mine", t("mine")),
            ("GET", "/stores/{storeId}/pets/{petId}/", t("nested")),
            ("GET", "/", t("root")),
        ])
        .unwrap()
    }

    fn hit(r: &ServiceRoutes, m: &str, p: &str) -> Option<String> {
        match r.find(m, p) {
            Matched::Api(t) => Some(t.api_id.clone()),
            _ => None,
        }
    }

    #[test]
    fn templates_methods_and_the_most_specific_match() {
        let r = routes();
        assert_eq!(hit(&r, "GET", "/pets").as_deref(), Some("list"));
        assert_eq!(hit(&r, "POST", "/pets").as_deref(), Some("create"));
        assert_eq!(hit(&r, "GET", "/pets/42").as_deref(), Some("get"));
        assert_eq!(
            hit(&r, "DELETE", "/pets/42").as_deref(),
            Some("delete"),
            "parameter names differ"
        );
        assert_eq!(
            hit(&r, "GET", "/pets/mine").as_deref(),
            Some("mine"),
            "static beats parameter"
        );
        assert_eq!(hit(&r, "GET", "/stores/1/pets/2").as_deref(), Some("nested"));
        assert_eq!(hit(&r, "GET", "/").as_deref(), Some("root"));
        assert_eq!(hit(&r, "get", "/pets").as_deref(), Some("list"), "method case");
        assert_eq!(r.find("PUT", "/pets/42"), Matched::WrongMethod);
        assert_eq!(r.find("GET", "/owners"), Matched::NoRoute);
        assert_eq!(r.find("GET", "/pets/42/toys"), Matched::NoRoute);
    }

    #[test]
    fn trailing_slashes_and_percent_encoding() {
        let r = routes();
        assert_eq!(hit(&r, "GET", "/pets/").as_deref(), Some("list"));
        assert_eq!(hit(&r, "GET", "/stores/1/pets/2/").as_deref(), Some("nested"));
        assert_eq!(hit(&r, "GET", "/pet%73").as_deref(), Some("list"), "unreserved decoded");
        assert_eq!(hit(&r, "GET", "/pets/%6Dine").as_deref(), Some("mine"));
        assert_eq!(
            hit(&r, "GET", "/pets/a%2Fb").as_deref(),
            Some("get"),
            "an encoded slash stays in its segment"
        );
        assert_eq!(r.find("GET", "/pets%2F42"), Matched::NoRoute);
        assert_eq!(
            hit(&r, "GET", "/pets/%zz").as_deref(),
            Some("get"),
            "bad escapes stay as sent"
        );
    }

    #[test]
    fn bad_templates_are_named() {
        assert!(ServiceRoutes::check_template("pets").is_err());
        assert!(ServiceRoutes::check_template("/pets/{}").is_err());
        assert!(ServiceRoutes::check_template("/pets/{id").is_err());
        assert!(ServiceRoutes::check_template("/pets/{a/b}").is_err());
        assert!(ServiceRoutes::check_template("/pets/id}").is_err());
        assert!(ServiceRoutes::check_template("/pets/{id}").is_ok());
    }

    #[test]
    fn a_method_and_template_is_added_once_whatever_its_parameter_names() {
        let mut r = routes();
        let e = r.add("get", "/pets/{other}", t("again")).unwrap_err();
        assert!(e.reason.contains("already an API"), "{e}");
        assert_eq!(hit(&r, "GET", "/pets/42").as_deref(), Some("get"), "the first stays");
        r.add("PUT", "/pets/{other}", t("put")).unwrap();
        assert_eq!(hit(&r, "PUT", "/pets/42").as_deref(), Some("put"));
        assert!(ServiceRoutes::build([("GET", "/a", t("1")), ("GET", "/a/", t("2"))]).is_err());
    }
}
