//! The reference tool's YAML pipelines (`../shared/reference/operations.md`,
//! "Pipeline file format"), imported as ours: each of `pipeline.steps`
//! becomes a step whose `operation` and `params` are written as our RON op,
//! then parsed and validated by the same code as a RON pipeline, so a YAML
//! file can hold nothing that a RON file could not.
//!
//! Mapping: a `seed` parameter becomes the step's `seed`; lists become
//! `(min, max)`; strings become our words, lower-cased (`"GRBG"` → `grbg`);
//! `null` leaves a parameter at its default. `downscale` with `scale` above
//! 1 (which the reference's validator rejects, though one of its examples
//! asks for it) becomes the `resize` that enlarges by that factor. Sections
//! we have no use for (`source`, `segment`, `output`) are kept as comments,
//! each with a warning. Errors name the file and the line of the step.

use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};

use super::{EXTENSIONS, MAX_REPEAT, Pipeline, PipelineError};
use crate::ops::OpSpec;

/// A reference pipeline imported: ours, the RON that says the same, and
/// what the import dropped or changed.
#[derive(Debug)]
pub struct Imported {
    pub pipeline: Pipeline,
    /// For people: a header naming the file, the dropped sections as
    /// comments, one step a line.
    pub ron: String,
    /// One line each, naming the file and what was dropped or changed.
    pub warnings: Vec<String>,
}

/// The keys a reference step may have.
const STEP_KEYS: &[&str] = &["name", "operation", "params", "repeat"];

/// Imports reference YAML text; `origin` names it in errors and warnings.
pub fn import(text: &str, origin: &str) -> Result<Imported, PipelineError> {
    let docs = MarkedYamlOwned::load_from_str(text).map_err(|e| PipelineError::Syntax {
        origin: origin.to_string(),
        line: e.marker().line(),
        col: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    let at = |node: &MarkedYamlOwned, message: String| PipelineError::Invalid {
        origin: format!("{origin}:{}", node.span.start.line()),
        message,
    };
    let invalid = |message: &str| PipelineError::Invalid {
        origin: origin.to_string(),
        message: message.to_string(),
    };
    let root = docs
        .first()
        .ok_or_else(|| invalid("the file is empty: expected `pipeline:` with `steps:` under it"))?;
    let YamlDataOwned::Mapping(top) = &root.data else {
        return Err(at(
            root,
            "expected a mapping with `pipeline:` at the top".into(),
        ));
    };

    let mut warnings = Vec::new();
    let mut header = vec![format!("// Imported from {origin} by `stillgraph import`.")];
    let mut steps = None;
    for (key, value) in top {
        match key_str(key) {
            Some("pipeline") => steps = Some(lookup(value, "steps")),
            Some("steps") => {
                return Err(at(
                    key,
                    "`steps:` belongs under `pipeline:`: write `pipeline:` on a line of its own \
                     and indent `steps:` and its list under it"
                        .into(),
                ));
            }
            Some(section @ ("source" | "segment" | "output")) => {
                let (comment, warning) = dropped(section, value);
                warnings.push(format!("{origin}:{}: {warning}", key.span.start.line()));
                header.push(comment);
            }
            _ => {
                return Err(at(
                    key,
                    format!(
                        "unknown section {} (allowed: pipeline, source, segment, output)",
                        show(key)
                    ),
                ));
            }
        }
    }
    let steps = match steps {
        Some(Some(node)) => node,
        Some(None) | None => {
            return Err(invalid("no `pipeline:` with `steps:` under it"));
        }
    };
    let YamlDataOwned::Sequence(items) = &steps.data else {
        return Err(at(steps, "`steps:` must be a list of steps".into()));
    };
    if items.is_empty() {
        return Err(at(steps, "the pipeline has no steps".into()));
    }

    let mut lines = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for item in items {
        let step = import_step(item, origin, &mut warnings)?;
        if names.contains(&step.name) {
            return Err(at(item, format!("two steps are named \"{}\"", step.name)));
        }
        names.push(step.name.clone());
        lines.push(step.ron);
    }
    let ron = format!(
        "{}\nPipeline(\n    steps: [\n{}    ],\n)\n",
        header.join("\n"),
        lines
            .iter()
            .map(|l| format!("        {l},\n"))
            .collect::<String>()
    );
    let pipeline = Pipeline::parse(&ron, origin)?;
    Ok(Imported {
        pipeline,
        ron,
        warnings,
    })
}

/// One step, checked where it stands in the file.
struct ImportedStep {
    name: String,
    ron: String,
}

fn import_step(
    item: &MarkedYamlOwned,
    origin: &str,
    warnings: &mut Vec<String>,
) -> Result<ImportedStep, PipelineError> {
    let here = format!("{origin}:{}", item.span.start.line());
    let err = |message: String| PipelineError::Invalid {
        origin: here.clone(),
        message,
    };
    let YamlDataOwned::Mapping(fields) = &item.data else {
        return Err(err(
            "a step must be a mapping with name, operation, params and repeat".into(),
        ));
    };
    for key in fields.keys() {
        if !key_str(key).is_some_and(|k| STEP_KEYS.contains(&k)) {
            return Err(err(format!(
                "unknown step field {} (allowed: {})",
                show(key),
                STEP_KEYS.join(", ")
            )));
        }
    }
    let text = |field: &str| match lookup(item, field) {
        Some(MarkedYamlOwned {
            data: YamlDataOwned::Value(ScalarOwned::String(s)),
            ..
        }) => Ok(s.clone()),
        Some(other) => Err(err(format!("{field} = {} must be a string", show(other)))),
        None => Err(err(format!("the step has no {field}"))),
    };
    // The reference keeps only these characters of a name.
    let written = text("name")?;
    let name: String = written
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .collect();
    if name.trim().is_empty() {
        return Err(err(format!(
            "step name \"{written}\" is empty once cleaned (allowed: letters, digits, '-', '_' and spaces)"
        )));
    }
    if name != written {
        warnings.push(format!(
            "{here}: step name \"{written}\" imported as \"{name}\", as the reference keeps it"
        ));
    }
    let step_err = |op: &str, message: String| PipelineError::Invalid {
        origin: here.clone(),
        message: format!("step \"{name}\" ({op}): {message}"),
    };
    let mut op = text("operation")?;
    let mut params: Vec<(String, String)> = Vec::new();
    let mut seed = None;
    match lookup(item, "params") {
        None
        | Some(MarkedYamlOwned {
            data: YamlDataOwned::Value(ScalarOwned::Null),
            ..
        }) => {}
        Some(MarkedYamlOwned {
            data: YamlDataOwned::Mapping(map),
            ..
        }) => {
            for (key, value) in map {
                let key = key_str(key).ok_or_else(|| {
                    step_err(&op, format!("parameter {} is not a name", show(key)))
                })?;
                if key == "seed" {
                    seed = Some(match &value.data {
                        YamlDataOwned::Value(ScalarOwned::Integer(s)) if *s >= 0 => *s,
                        _ => {
                            return Err(step_err(
                                &op,
                                format!(
                                    "seed = {} is not allowed (allowed: an integer >= 0)",
                                    show(value)
                                ),
                            ));
                        }
                    });
                } else if let Some(v) = ron_value(value) {
                    params.push((key.to_string(), v));
                }
            }
        }
        Some(other) => {
            return Err(step_err(
                &op,
                format!("params = {} must be a mapping", show(other)),
            ));
        }
    }
    if op == "downscale"
        && let Some(scale) = params
            .iter()
            .find(|(k, _)| k == "scale")
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .filter(|&s| s > 1.0)
    {
        let method = params
            .iter()
            .find(|(k, _)| k == "downscale_method")
            .map_or("bicubic".to_string(), |(_, v)| v.clone());
        let back = if params.iter().any(|(k, v)| k == "upscale" && v == "false") {
            ""
        } else {
            ", without the way back to the input size that upscale asks for"
        };
        warnings.push(format!(
            "{here}: step \"{name}\": downscale with scale {scale} enlarges, which the reference \
             rejects; imported as resize(scale: {scale}, method: {method}){back}"
        ));
        op = "resize".into();
        params = vec![
            ("scale".into(), format!("{scale:?}")),
            ("method".into(), method),
        ];
    }
    let op_text = format!(
        "{op}({})",
        params
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Parse and validate the op here, so that errors carry this step's line.
    let spec: OpSpec = ron::Options::default()
        .with_default_extension(EXTENSIONS)
        .from_str(&op_text)
        .map_err(|e| {
            let place = super::place_of(&op_text, e.span.start.line, e.span.start.col);
            step_err(&op, format!("{op_text}: {place}{}", e.code))
        })?;
    spec.validate()
        .map_err(|e| step_err(spec.name(), e.to_string()))?;

    let mut ron = format!("(name: {name:?}, op: {op_text}");
    if let Some(seed) = seed {
        ron.push_str(&format!(", seed: {seed}"));
    }
    match lookup(item, "repeat") {
        None => {}
        Some(MarkedYamlOwned {
            data: YamlDataOwned::Value(ScalarOwned::Integer(r)),
            ..
        }) if (2..=i64::from(MAX_REPEAT)).contains(r) => ron.push_str(&format!(", repeat: {r}")),
        Some(MarkedYamlOwned {
            data: YamlDataOwned::Value(ScalarOwned::Integer(1)),
            ..
        }) => {}
        Some(other) => {
            return Err(step_err(
                &op,
                format!(
                    "repeat = {} is not allowed (allowed: an integer 1 ..= {MAX_REPEAT})",
                    show(other)
                ),
            ));
        }
    }
    ron.push(')');
    Ok(ImportedStep { name, ron })
}

/// A parameter's value as RON; `None` for `null` (the parameter's default).
/// Strings that are words become our bare words; anything else keeps its
/// type, so that serde's message says what was expected instead.
fn ron_value(node: &MarkedYamlOwned) -> Option<String> {
    Some(match &node.data {
        YamlDataOwned::Value(ScalarOwned::Null) => return None,
        YamlDataOwned::Value(ScalarOwned::Boolean(b)) => b.to_string(),
        YamlDataOwned::Value(ScalarOwned::Integer(i)) => i.to_string(),
        YamlDataOwned::Value(ScalarOwned::FloatingPoint(f)) => format!("{:?}", f.into_inner()),
        YamlDataOwned::Value(ScalarOwned::String(s)) => {
            let word = s.to_ascii_lowercase();
            let is_word = word.starts_with(|c: char| c.is_ascii_alphabetic())
                && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if is_word { word } else { format!("{s:?}") }
        }
        YamlDataOwned::Sequence(items) => format!(
            "({})",
            items
                .iter()
                .map(|i| ron_value(i).unwrap_or_else(|| "()".into()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!("{:?}", show(node)),
    })
}

/// The comment that keeps a section we do not use, and its warning.
fn dropped(section: &str, value: &MarkedYamlOwned) -> (String, String) {
    let fields = match &value.data {
        YamlDataOwned::Mapping(map) => map
            .iter()
            .map(|(k, v)| format!("{}: {}", show(k), show(v)))
            .collect::<Vec<_>>()
            .join(", "),
        _ => show(value),
    };
    let why = match section {
        "source" => "stillgraph reads frames from files: name them with -i".to_string(),
        "segment" => {
            let flags: Vec<String> = [("start", "start"), ("end", "end"), ("interval", "every")]
                .iter()
                .filter_map(|(key, flag)| Some(format!("--{flag} {}", show(lookup(value, key)?))))
                .collect();
            format!(
                "choose the frames on the command line: -i VIDEO {}",
                flags.join(" ")
            )
        }
        _ => {
            let dir = lookup(value, "final_dir")
                .or_else(|| lookup(value, "base_dir"))
                .map(show)
                .unwrap_or_else(|| "./pipeline_output/final".into());
            format!("pass the output folder on the command line: -o {dir}")
        }
    };
    (
        format!("// {section}: {fields} (not used: {why})"),
        format!("{section} ({fields}) is not used: {why}"),
    )
}

/// The value of `key` in a mapping node.
fn lookup<'a>(node: &'a MarkedYamlOwned, key: &str) -> Option<&'a MarkedYamlOwned> {
    let YamlDataOwned::Mapping(map) = &node.data else {
        return None;
    };
    map.iter()
        .find(|(k, _)| key_str(k) == Some(key))
        .map(|(_, v)| v)
}

fn key_str(node: &MarkedYamlOwned) -> Option<&str> {
    match &node.data {
        YamlDataOwned::Value(ScalarOwned::String(s)) => Some(s),
        _ => None,
    }
}

/// A node as the user wrote it, roughly, for messages.
fn show(node: &MarkedYamlOwned) -> String {
    match &node.data {
        YamlDataOwned::Value(ScalarOwned::Null) => "null".into(),
        YamlDataOwned::Value(ScalarOwned::Boolean(b)) => b.to_string(),
        YamlDataOwned::Value(ScalarOwned::Integer(i)) => i.to_string(),
        YamlDataOwned::Value(ScalarOwned::FloatingPoint(f)) => f.to_string(),
        YamlDataOwned::Value(ScalarOwned::String(s)) => s.clone(),
        YamlDataOwned::Sequence(items) => {
            format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        YamlDataOwned::Mapping(_) => "{...}".into(),
        _ => "?".into(),
    }
}
