use super::checks::is_s256_challenge;
use super::*;

#[test]
fn response_types_are_put_in_canonical_order() {
    assert_eq!(
        parse_response_type("token id_token code").unwrap(),
        ["code", "id_token", "token"]
    );
    assert_eq!(parse_response_type("code").unwrap(), ["code"]);
    assert!(parse_response_type("code foo").is_none());
    assert!(parse_response_type(" ").is_none());
}

#[test]
fn redirects_append_to_an_existing_query_and_encode_values() {
    let r = Redirect {
        uri: "https://app.example/cb?x=1".into(),
        mode: ResponseMode::Query,
        params: vec![("state".into(), "a b&c".into())],
    };
    assert_eq!(r.location(), "https://app.example/cb?x=1&state=a%20b%26c");
    let f = Redirect {
        mode: ResponseMode::Fragment,
        ..r
    };
    assert_eq!(f.location(), "https://app.example/cb?x=1#state=a%20b%26c");
}

#[test]
fn only_s256_challenges_of_the_right_shape_are_accepted() {
    let c = b64url(&castellan_jose::sha256(b"verifier"));
    assert!(is_s256_challenge(&c));
    assert!(!is_s256_challenge("short"));
    assert!(!is_s256_challenge(&format!("{c}=")));
}
