//! OpenAPI links (OpenAPI 3.1 §4.8.20) from each operation that creates an object to the
//! operations on that object, so code generators and stateful fuzzers can chain them: the
//! created object's id comes from the response body, the other path parameters from the request.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi, RefOr};

/// The members of a created object that name it, in the order they are tried.
const ID_MEMBERS: [&str; 4] = ["id", "client_id", "clientId", "name"];

/// Adds, to the `201` (or `200`) answer of every `POST` on a collection `P`, a link to each
/// operation of `P/{param}`.
pub(crate) fn add(doc: &mut OpenApi) {
    let paths: Vec<String> = doc.paths.paths.keys().cloned().collect();
    let mut found = Vec::new();
    for collection in &paths {
        let Some(create) = doc.paths.paths[collection].post.as_ref() else {
            continue;
        };
        for item in &paths {
            let Some(rest) = item.strip_prefix(collection.as_str()).and_then(|r| r.strip_prefix('/')) else {
                continue;
            };
            let Some(param) = rest
                .strip_prefix('{')
                .and_then(|r| r.strip_suffix('}'))
                .filter(|p| !p.contains(['/', '{', '}']))
            else {
                continue;
            };
            let Some((status, member)) = ["201", "200"].into_iter().find_map(|status| {
                let body = id_member(doc, create, status)?;
                Some((status, body))
            }) else {
                continue;
            };
            let it = &doc.paths.paths[item];
            let targets = [
                ("Get", it.get.as_ref()),
                ("Update", it.put.as_ref()),
                ("Delete", it.delete.as_ref()),
            ];
            for (verb, op) in targets {
                let Some(id) = op.and_then(|o| o.operation_id.clone()) else {
                    continue;
                };
                let mut link = LinkBuilder::new()
                    .operation_id(id)
                    .parameter(param, format!("$response.body#/{member}"));
                for p in path_params(collection) {
                    link = link.parameter(p, format!("$request.path.{p}"));
                }
                found.push((collection.clone(), status, format!("{verb}Created"), link.build()));
            }
        }
    }
    for (collection, status, name, link) in found {
        let Some(op) = doc.paths.paths.get_mut(&collection).and_then(|p| p.post.as_mut()) else {
            continue;
        };
        if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) {
            response.links.insert(name, RefOr::T(link));
        }
    }
}

/// utoipa 5.5 writes a link's members in snake case (`operation_id`); OpenAPI names them in camel
/// case (`operationId`), and validators refuse the document otherwise. Renamed in the JSON.
pub(crate) fn camel_case_members(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(serde_json::Value::as_object_mut) else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|i| i.values_mut())
    {
        let Some(responses) = op.get_mut("responses").and_then(serde_json::Value::as_object_mut) else {
            continue;
        };
        for links in responses
            .values_mut()
            .filter_map(|r| r.get_mut("links"))
            .filter_map(serde_json::Value::as_object_mut)
        {
            for link in links.values_mut().filter_map(serde_json::Value::as_object_mut) {
                for (snake, camel) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(v) = link.remove(snake) {
                        link.insert(camel.to_owned(), v);
                    }
                }
            }
        }
    }
}

fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

/// The member of `op`'s `status` answer that names the created object.
fn id_member(doc: &OpenApi, op: &utoipa::openapi::path::Operation, status: &str) -> Option<&'static str> {
    let RefOr::T(response) = op.responses.responses.get(status)? else {
        return None;
    };
    let content = response.content.get("application/json")?;
    let RefOr::Ref(r) = content.schema.as_ref()? else {
        return None;
    };
    member_of(doc, &r.ref_location, 0)
}

/// The naming member of the schema `location` refers to, looking through `allOf`.
fn member_of(doc: &OpenApi, location: &str, depth: usize) -> Option<&'static str> {
    let name = location.rsplit('/').next()?;
    let schema = doc.components.as_ref()?.schemas.get(name)?;
    match schema {
        RefOr::T(Schema::Object(object)) => ID_MEMBERS.into_iter().find(|m| object.properties.contains_key(*m)),
        RefOr::T(Schema::AllOf(all)) if depth < 4 => all.items.iter().find_map(|part| match part {
            RefOr::Ref(r) => member_of(doc, &r.ref_location, depth + 1),
            RefOr::T(Schema::Object(object)) => ID_MEMBERS.into_iter().find(|m| object.properties.contains_key(*m)),
            _ => None,
        }),
        _ => None,
    }
}
