//! What the user wrote: the RON schema (serde types), parsing with line and
//! column on errors, and validation of every step before any frame is read.
//!
//! ```ron
//! Pipeline(
//!     seed: 7,
//!     steps: [
//!         (name: "warm", op: saturation(mode: fixed, value: 0.3)),
//!         (name: "soft", op: blur_gaussian(sigma: 2.0), repeat: 2),
//!         (name: "pixels", op: downscale(scale: 0.25)),
//!     ],
//! )
//! ```

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ops::{OpSpec, ParamError};

pub mod yaml;

/// Whether a pipeline file is the reference tool's YAML, by its ending.
pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// The name by which a step reads the pipeline's input frame.
pub const INPUT: &str = "input";

/// RON extensions on by default: `blur_gaussian(sigma: 1.0)` rather than
/// `blur_gaussian((sigma: 1.0))`, and `seed: 3` rather than `seed: Some(3)`.
const EXTENSIONS: ron::extensions::Extensions =
    ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES
        .union(ron::extensions::Extensions::IMPLICIT_SOME);

/// The largest `repeat` of a step.
pub const MAX_REPEAT: u32 = 100;

/// A pipeline: steps forming a graph, and the seed from which steps without
/// a seed of their own derive one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    #[serde(default)]
    pub seed: u64,
    pub steps: Vec<Step>,
    /// Where the pipeline came from, for error messages.
    #[serde(skip)]
    pub origin: String,
}

/// One step: an op with its parameters, what it reads, how often it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique; letters, digits, `-`, `_` and spaces.
    pub name: String,
    pub op: OpSpec,
    /// Names of the steps (or `input`) this step reads. Empty: the previous
    /// step, or the pipeline input for the first step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Seed for the step's random choices; default: derived from the
    /// pipeline seed and the step's position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Apply the op this many times (1..=100); each repeat draws afresh.
    #[serde(default = "one")]
    pub repeat: u32,
    /// Return this step's frame as an output. When no step is marked, the
    /// last step is the output.
    #[serde(default)]
    pub output: bool,
    /// Draw a new random pattern on every frame instead of one for all.
    #[serde(default)]
    pub animate: bool,
}

fn one() -> u32 {
    1
}

/// Everything that can be wrong with a pipeline, each naming where.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot read pipeline {origin}: {source}")]
    Read {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{col}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{origin}: step \"{step}\" ({op}): {source}")]
    Param {
        origin: String,
        step: String,
        op: &'static str,
        source: Box<ParamError>,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("{origin}: the steps {} read each other in a cycle", quoted(.steps))]
    Cycle { origin: String, steps: Vec<String> },
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(" -> ")
}

impl Pipeline {
    /// Reads, parses and validates a pipeline file: RON, or the reference
    /// tool's YAML when the name ends in `.yaml` or `.yml` (its import
    /// warnings dropped; [`Pipeline::load`] returns them).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PipelineError> {
        Self::load(path).map(|(pipeline, _)| pipeline)
    }

    /// As [`Pipeline::from_file`], with what a YAML import dropped or
    /// changed, a line each (none for RON).
    pub fn load(path: impl AsRef<Path>) -> Result<(Self, Vec<String>), PipelineError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Read {
            origin: origin.clone(),
            source,
        })?;
        if is_yaml(path) {
            let imported = yaml::import(&text, &origin)?;
            Ok((imported.pipeline, imported.warnings))
        } else {
            Ok((Self::parse(&text, &origin)?, Vec::new()))
        }
    }

    /// Parses and validates RON text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, PipelineError> {
        let blank = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with("//"));
        if blank {
            return Err(PipelineError::Invalid {
                origin: origin.to_string(),
                message: "the file is empty: expected Pipeline(steps: [...])".into(),
            });
        }
        let options = ron::Options::default().with_default_extension(EXTENSIONS);
        let mut pipeline: Pipeline =
            options
                .from_str(text)
                .map_err(|e: ron::error::SpannedError| {
                    let (line, col) = (e.span.start.line, e.span.start.col);
                    let message = format!("{}{}", place_of(text, line, col), e.code);
                    PipelineError::Syntax {
                        origin: origin.to_string(),
                        line,
                        col,
                        message,
                    }
                })?;
        pipeline.origin = origin.to_string();
        pipeline.validate()?;
        Ok(pipeline)
    }

    /// Checks names, repeats, every op's parameters and the graph's shape.
    pub fn validate(&self) -> Result<(), PipelineError> {
        let invalid = |message: String| PipelineError::Invalid {
            origin: self.origin.clone(),
            message,
        };
        if self.steps.is_empty() {
            return Err(invalid("the pipeline has no steps".into()));
        }
        let mut names = HashSet::new();
        for step in &self.steps {
            let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ');
            if step.name.trim().is_empty() || !step.name.chars().all(ok_char) {
                return Err(invalid(format!(
                    "step name \"{}\" is not allowed (allowed: letters, digits, '-', '_' and spaces)",
                    step.name
                )));
            }
            if step.name == INPUT {
                return Err(invalid(format!(
                    "step name \"{INPUT}\" is reserved for the pipeline's input frame"
                )));
            }
            if !names.insert(step.name.as_str()) {
                return Err(invalid(format!("two steps are named \"{}\"", step.name)));
            }
            if !(1..=MAX_REPEAT).contains(&step.repeat) {
                return Err(self.param_error(
                    step,
                    ParamError {
                        param: "repeat",
                        value: step.repeat.to_string(),
                        allowed: format!("1 ..= {MAX_REPEAT}"),
                    },
                ));
            }
            step.op.validate().map_err(|e| self.param_error(step, e))?;
        }
        crate::graph::compile(self, crate::graph::Keep::Outputs).map(|_| ())
    }

    fn param_error(&self, step: &Step, source: ParamError) -> PipelineError {
        PipelineError::Param {
            origin: self.origin.clone(),
            step: step.name.clone(),
            op: step.op.name(),
            source: Box::new(source),
        }
    }

    /// The seed a step's random draws use.
    pub fn step_seed(&self, index: usize) -> u64 {
        self.steps[index]
            .seed
            .unwrap_or_else(|| splitmix64(self.seed ^ splitmix64(index as u64 + 1)))
    }
}

/// Where an error at `line:col` (1-based) says it is, as a prefix for its
/// message: the step it falls in (the last `name: "..."` before it) and the
/// field or op parameter whose value it is in, so that a wrong type or an
/// unknown field deep in a long file names its step and parameter as well
/// as its place. Empty before any step and outside any field's value.
pub(crate) fn place_of(text: &str, line: usize, col: usize) -> String {
    let Some(offset) = byte_offset(text, line, col) else {
        return String::new();
    };
    let before = &text[..offset];
    let field = field_of_value(before, &text[offset..]);
    // A wrong `name:` is in the step it would name, not the one before.
    let step = (field != Some("name"))
        .then(|| step_before(before))
        .flatten();
    let field = field.map(|f| {
        let kind = if STEP_FIELDS.contains(&f) {
            "field"
        } else {
            "parameter"
        };
        format!("{kind} \"{f}\"")
    });
    match (step, field) {
        (Some(s), Some(f)) => format!("step \"{s}\", {f}: "),
        (Some(s), None) => format!("step \"{s}\": "),
        (None, Some(f)) => format!("{f}: "),
        (None, None) => String::new(),
    }
}

/// The fields of a pipeline and of its steps; every other field is an op's.
const STEP_FIELDS: &[&str] = &[
    "seed", "steps", "name", "op", "inputs", "repeat", "output", "animate",
];

/// The byte offset of 1-based `line:col` (columns count characters).
fn byte_offset(text: &str, line: usize, col: usize) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line = text.get(start..)?.lines().next()?;
    let within = line
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    Some(start + within)
}

/// The name in the last `name: "..."` of `before`.
fn step_before(before: &str) -> Option<String> {
    let at = before.rfind("name:")?;
    let rest = before[at + "name:".len()..]
        .trim_start()
        .strip_prefix('"')?;
    rest.find('"').map(|end| rest[..end].to_string())
}

/// The field whose value holds the point between `before` and `after`:
/// walking back over whole values (brackets balanced, strings skipped) and
/// out of enclosing tuples and lists, the identifier before the first `:`.
/// `None` where the point is a field's name (`after` starts `ident:`: an
/// unknown field, which the parser's message names already); at a closing
/// bracket (a missing field), the field whose value the bracket closes.
fn field_of_value<'a>(before: &'a str, after: &str) -> Option<&'a str> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let rest = after.trim_start_matches(ident);
    if rest.len() < after.len() && rest.trim_start().starts_with(':') {
        return None;
    }
    // At a closing bracket the fault is the whole struct's (a missing
    // field): start outside it, so its last field is not blamed.
    let closing = after.trim_start().starts_with([')', ']']);
    let bytes = before.as_bytes();
    let (mut i, mut depth) = (bytes.len(), usize::from(closing));
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b'"' => {
                // Back to the opening quote, past escaped ones.
                while i > 0 {
                    i -= 1;
                    if bytes[i] == b'"' && (i == 0 || bytes[i - 1] != b'\\') {
                        break;
                    }
                }
            }
            b')' | b']' => depth += 1,
            b'(' | b'[' => depth = depth.saturating_sub(1),
            b':' if depth == 0 => {
                let name = before[..i].trim_end();
                let start = name.trim_end_matches(ident).len();
                return Some(&name[start..]).filter(|n| !n.is_empty());
            }
            _ => {}
        }
    }
    None
}

/// Finalizer of SplitMix64: spreads a seed and a step index over all bits.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl fmt::Display for Pipeline {
    /// The pipeline as RON, the form it is read in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pretty = ron::ser::PrettyConfig::default().extensions(EXTENSIONS);
        match ron::ser::to_string_pretty(self, pretty) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Pipeline, PipelineError> {
        Pipeline::parse(text, "test.ron")
    }

    #[test]
    fn a_linear_pipeline_parses_with_defaults() {
        let p = parse(
            r#"Pipeline(seed: 3, steps: [
                (name: "a", op: saturation(mode: fixed, value: 0.5)),
                (name: "b", op: blur_gaussian(sigma: 1.0), repeat: 2),
            ])"#,
        )
        .unwrap();
        assert_eq!(p.seed, 3);
        assert_eq!(p.steps[1].repeat, 2);
        assert!(p.steps[0].inputs.is_empty());
        assert_ne!(p.step_seed(0), p.step_seed(1));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = parse("Pipeline(\n  steps: [\n    (name: \"a\" op: x),\n  ])").unwrap_err();
        let PipelineError::Syntax { line, col, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!((*line, *col), (3, 16), "{e}");
        assert!(e.to_string().starts_with("test.ron:3:16: "), "{e}");
    }

    #[test]
    fn a_wrong_type_names_its_step_and_parameter_as_well_as_its_place() {
        let text = "(steps: [\n  (name: \"warm\", op: saturation(mode: fixed, value: 0.2)),\n  (name: \"soft\", op: blur_gaussian(sigma: true)),\n])";
        let e = parse(text).unwrap_err().to_string();
        assert!(e.starts_with("test.ron:3:"), "{e}");
        assert!(e.contains("step \"soft\", parameter \"sigma\": "), "{e}");
        // Before any step there is none to name.
        let e = parse("Pipeline(seed: -1, steps: [])")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("step \""), "{e}");
        assert!(e.contains("field \"seed\": "), "{e}");
    }

    #[test]
    fn the_parameter_named_is_the_one_whose_value_is_wrong() {
        let named = |text: &str| {
            let e = parse(text).unwrap_err().to_string();
            let place = e.split(": ").nth(1).unwrap_or_default().to_string();
            (place, e)
        };
        // An element of a tuple: the tuple's parameter.
        let (place, e) = named(
            r#"(steps: [(name: "t", op: band_swap(tile_count: 1, permutation: bgr, tile_size_range: (0.01, "a")))])"#,
        );
        assert_eq!(place, "step \"t\", parameter \"tile_size_range\"", "{e}");
        // A string holding colons and brackets before the fault is skipped whole.
        let (place, e) = named(
            r#"(steps: [(name: "a", op: downscale(scale: 0.5)), (name: "b", op: blur_gaussian(sigma: 1.0), inputs: ["x:(", 3])])"#,
        );
        assert_eq!(place, "step \"b\", field \"inputs\"", "{e}");
        // An unknown field is no other field's fault; the parser names it.
        let (place, e) =
            named(r#"(steps: [(name: "s", op: blur_gaussian(sigma: 1.0, radius: 2))])"#);
        assert_eq!(place, "step \"s\"", "{e}");
        assert!(e.contains("radius"), "{e}");
        // A missing field is the op's fault, not its last parameter's.
        let (place, e) = named(r#"(steps: [(name: "s", op: noise(amount: 0.1))])"#);
        assert_eq!(place, "step \"s\", field \"op\"", "{e}");
        assert!(e.contains("missing field named `mode`"), "{e}");
        // A name of the wrong type does not belong to the step before it.
        let (place, e) = named(
            r#"(steps: [(name: "a", op: downscale(scale: 0.5)), (name: 5, op: downscale(scale: 0.5))])"#,
        );
        assert_eq!(place, "field \"name\"", "{e}");
    }

    #[test]
    fn unknown_ops_list_the_valid_ones() {
        let e = parse(r#"(steps: [(name: "a", op: blurr(sigma: 1.0))])"#).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("blurr") && msg.contains("blur_gaussian"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_params_are_rejected() {
        let e = parse(r#"(steps: [(name: "a", op: blur_gaussian(sigma: 1.0, radius: 2))])"#)
            .unwrap_err();
        assert!(e.to_string().contains("radius"), "{e}");
    }

    #[test]
    fn out_of_range_names_step_param_value_and_range() {
        let e = parse(r#"(steps: [(name: "soft", op: blur_gaussian(sigma: -2.0))])"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "test.ron: step \"soft\" (blur_gaussian): sigma = -2 is not allowed (allowed: 0 ..= 1000)"
        );
    }

    #[test]
    fn structural_mistakes_are_named() {
        let dup = r#"(steps: [(name: "a", op: blur_gaussian(sigma: 1.0)), (name: "a", op: blur_gaussian(sigma: 1.0))])"#;
        assert!(
            parse(dup)
                .unwrap_err()
                .to_string()
                .contains("two steps are named \"a\"")
        );
        assert!(
            parse("(steps: [])")
                .unwrap_err()
                .to_string()
                .contains("no steps")
        );
        for empty in ["", "\n  \n", "// only a comment\n"] {
            let e = parse(empty).unwrap_err().to_string();
            assert_eq!(
                e,
                "test.ron: the file is empty: expected Pipeline(steps: [...])"
            );
        }
        let slash = r#"(steps: [(name: "a/b", op: blur_gaussian(sigma: 1.0))])"#;
        assert!(parse(slash).unwrap_err().to_string().contains("a/b"));
        let rep = r#"(steps: [(name: "a", op: blur_gaussian(sigma: 1.0), repeat: 0)])"#;
        assert!(parse(rep).unwrap_err().to_string().contains("repeat = 0"));
    }

    #[test]
    fn display_round_trips() {
        let p = parse(r#"(seed: 9, steps: [(name: "a", op: downscale(scale: 0.5))])"#).unwrap();
        let again = parse(&p.to_string()).unwrap();
        assert_eq!(again.to_string(), p.to_string());
    }
}
