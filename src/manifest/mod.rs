//! Manifests: YAML files → `model::Desired`, with validation and the JSON Schema.
