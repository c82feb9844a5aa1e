//! The committed JSON Schema must match the policy types.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn committed_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/schema.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let generated = warden_policy::json_schema();
    assert!(
        committed == generated,
        "policies/schema.json is stale; regenerate it with `warden policy schema > policies/schema.json`"
    );
}

#[test]
fn schema_is_draft_07() {
    let schema = warden_policy::json_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["properties"]["rules"].is_object());
}
