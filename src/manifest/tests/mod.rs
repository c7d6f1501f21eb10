//! Specification of the manifest format, by example: each test writes a manifest, loads it from
//! memory, and checks the groups or the exact problems.

mod fuzz;
mod loading;
mod people;
mod plain;
mod reading;
mod rules;

use std::path::Path;

use super::document::{Declared, read_file};
use super::{Limits, resolve};
use crate::model::Desired;

/// Loads `files` (name, text) with `limits`: the desired state, or every problem as displayed.
fn load_with(files: &[(&str, &str)], limits: &Limits) -> Result<Desired, Vec<String>> {
    let mut declared = Declared::default();
    let mut problems = Vec::new();
    for (name, text) in files {
        read_file(
            Path::new(name),
            text.as_bytes(),
            limits,
            &mut declared,
            &mut problems,
        );
    }
    let desired = resolve(declared, &mut problems);
    if problems.is_empty() {
        Ok(desired)
    } else {
        let errors = super::ManifestErrors::new(problems);
        Err(errors.problems().iter().map(ToString::to_string).collect())
    }
}

/// One file `g.yaml` with the default limits.
fn load(text: &str) -> Result<Desired, Vec<String>> {
    load_with(&[("g.yaml", text)], &Limits::default())
}

/// The problems of one file `g.yaml`; fails if it loads.
#[track_caller]
fn problems(text: &str) -> Vec<String> {
    match load(text) {
        Ok(desired) => panic!("expected problems, loaded {desired:#?}"),
        Err(problems) => problems,
    }
}

/// The desired state of one file `g.yaml`; fails on any problem.
#[track_caller]
fn loads(text: &str) -> Desired {
    match load(text) {
        Ok(desired) => desired,
        Err(problems) => panic!("expected no problems, got:\n{}", problems.join("\n")),
    }
}
