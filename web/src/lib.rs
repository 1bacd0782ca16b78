//! The playground's JavaScript API: the stillgraph engine in a browser tab,
//! on WebGPU where the browser has it and on the CPU backend (one thread)
//! where it does not. The page (`www/`) holds no knowledge of ops: it asks
//! [`ops`] for their parameters, [`check`] for a pipeline's steps and errors,
//! and [`set`] to turn a control's value into pipeline text, so that the
//! page says exactly what `stillgraph ops` and `stillgraph check` say.
//!
//! Values cross as JSON strings: a pipeline step's op is its serde form,
//! `{"blur_gaussian": {"sigma": 2.0}}`, the form the RON is parsed into.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use serde_json::{Value, json};
use stillgraph::io::{ColorKind, decode_noted, from_frame, to_frame};
use stillgraph::ops::{Allowed, OPS};
use stillgraph::pipeline::{PipelineError, is_yaml, yaml};
use stillgraph::{Backend, Engine, Frame, Keep, Pipeline, compile};
use wasm_bindgen::prelude::*;

/// The graphs of the repository's `graphs/`, as (name, RON text).
pub const GRAPHS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/graphs.rs"));

/// Every op with its parameters, as `stillgraph ops` lists them:
/// `[{name, summary, params: [{name, ty, default, allowed, doc}]}]`, where
/// `allowed` is `{any}`, `{min, max}`, `{at_least}`, `{above}` or `{words}`.
#[wasm_bindgen]
pub fn ops() -> String {
    let ops: Vec<Value> = OPS
        .iter()
        .map(|op| {
            let params: Vec<Value> = op
                .params
                .iter()
                .map(|p| {
                    let allowed = match p.allowed {
                        Allowed::Any => json!({"any": true}),
                        Allowed::Range(min, max) => json!({"min": min, "max": max}),
                        Allowed::AtLeast(min) => json!({"at_least": min}),
                        Allowed::Above(min) => json!({"above": min}),
                        Allowed::OneOf(words) => json!({"words": words}),
                    };
                    json!({
                        "name": p.name,
                        "ty": p.ty,
                        "default": p.default,
                        "allowed": allowed,
                        "allowed_text": p.allowed.to_string(),
                        "doc": p.doc,
                    })
                })
                .collect();
            json!({"name": op.name, "summary": op.summary, "params": params})
        })
        .collect();
    Value::Array(ops).to_string()
}

/// The bundled graphs: `[{name, text}]`.
#[wasm_bindgen]
pub fn graphs() -> String {
    let graphs: Vec<Value> = GRAPHS
        .iter()
        .map(|(name, text)| json!({"name": name, "text": text}))
        .collect();
    Value::Array(graphs).to_string()
}

/// Pipeline text as RON, or the reference tool's YAML when `name` ends in
/// `.yaml` or `.yml` (imported, as `stillgraph import` does).
struct Parsed {
    pipeline: Pipeline,
    /// The pipeline as RON: the text itself, or the YAML's import.
    ron: String,
    warnings: Vec<String>,
}

fn parse(text: &str, name: &str) -> Result<Parsed, PipelineError> {
    if is_yaml(Path::new(name)) {
        let imported = yaml::import(text, name)?;
        Ok(Parsed {
            pipeline: imported.pipeline,
            ron: imported.ron,
            warnings: imported.warnings,
        })
    } else {
        Ok(Parsed {
            pipeline: Pipeline::parse(text, name)?,
            ron: text.to_string(),
            warnings: Vec::new(),
        })
    }
}

/// The error as the CLI prints it, and where it is: line and column of a
/// syntax error, step and parameter of a bad value.
fn error_json(e: &PipelineError) -> Value {
    let (line, col, step, param) = match e {
        PipelineError::Syntax { line, col, .. } => (Some(*line), Some(*col), None, None),
        PipelineError::Param { step, source, .. } => {
            (None, None, Some(step.clone()), Some(source.param))
        }
        _ => (None, None, None, None),
    };
    json!({"ok": false, "error": e.to_string(), "line": line, "col": col, "step": step, "param": param})
}

/// Parses and validates pipeline text (see [`Parsed`] for `name`). Gives
/// `{ok: true, ron, seed, steps: [{name, op, params, seed, animate,
/// repeat}], outputs, warnings}`, or `{ok: false, error, line, col, step,
/// param}` with the CLI's message.
#[wasm_bindgen]
pub fn check(text: &str, name: &str) -> String {
    let parsed = match parse(text, name) {
        Ok(p) => p,
        Err(e) => return error_json(&e).to_string(),
    };
    let pipeline = &parsed.pipeline;
    let outputs: Vec<String> = match compile(pipeline, Keep::Outputs) {
        Ok(plan) => plan.output_names().iter().map(|s| s.to_string()).collect(),
        Err(e) => return error_json(&e).to_string(),
    };
    let steps: Vec<Value> = pipeline
        .steps
        .iter()
        .map(|step| {
            let (op, params) = op_params(&step.op);
            json!({
                "name": step.name,
                "op": op,
                "params": params,
                "seed": step.seed,
                "animate": step.animate,
                "repeat": step.repeat,
            })
        })
        .collect();
    json!({
        "ok": true,
        "ron": parsed.ron,
        "seed": pipeline.seed,
        "steps": steps,
        "outputs": outputs,
        "warnings": parsed.warnings,
    })
    .to_string()
}

/// An op's name and its parameters' values, as serde writes them.
fn op_params(op: &stillgraph::ops::OpSpec) -> (String, Value) {
    match serde_json::to_value(op) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .next()
            .unwrap_or_else(|| (op.name().to_string(), json!({}))),
        _ => (op.name().to_string(), json!({})),
    }
}

/// Sets one value of pipeline `text` and gives the new pipeline as RON (a
/// YAML pipeline becomes RON here; comments are not kept). `step` is a
/// step's name, or empty for the pipeline's own `seed`; `field` is the
/// step's `seed`, `animate` or `repeat`, or a parameter of its op; `value`
/// is JSON, `null` for the default. The new pipeline is validated: a value
/// out of range gives the CLI's message naming step, parameter and the
/// allowed values.
#[wasm_bindgen]
pub fn set(
    text: &str,
    name: &str,
    step: &str,
    field: &str,
    value: &str,
) -> Result<String, JsError> {
    let mut pipeline = parse(text, name)?.pipeline;
    let value: Value = serde_json::from_str(value)?;
    let bad = |what: &str| JsError::new(&format!("{name}: {what}"));
    if step.is_empty() {
        if field != "seed" {
            return Err(bad(&format!("the pipeline has no field \"{field}\"")));
        }
        pipeline.seed = value
            .as_u64()
            .ok_or_else(|| bad("seed: a whole number >= 0"))?;
    } else {
        let Some(at) = pipeline.steps.iter().position(|s| s.name == step) else {
            return Err(bad(&format!("no step is named \"{step}\"")));
        };
        let target = &mut pipeline.steps[at];
        match field {
            "seed" if value.is_null() => target.seed = None,
            "seed" => {
                let seed = value
                    .as_u64()
                    .ok_or_else(|| bad("seed: a whole number >= 0"))?;
                target.seed = Some(seed);
            }
            "animate" if value.is_null() => target.animate = false,
            "animate" => {
                target.animate = value
                    .as_bool()
                    .ok_or_else(|| bad("animate: true or false"))?;
            }
            "repeat" => {
                target.repeat = value
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| bad("repeat: a whole number"))?;
            }
            param => {
                let (op, mut params) = op_params(&target.op);
                let integer = OPS
                    .iter()
                    .find(|o| o.name == op)
                    .and_then(|o| o.params.iter().find(|p| p.name == param))
                    .is_some_and(|p| p.ty == "integer");
                let value = match value.as_f64() {
                    // Controls hand over numbers; integer fields take only
                    // whole ones, so 3.0 is 3 and 3.5 stays an error.
                    Some(v) if integer && v.fract() == 0.0 => json!(v as i64),
                    _ => value,
                };
                if let Value::Object(map) = &mut params {
                    if value.is_null() {
                        map.remove(param);
                    } else {
                        map.insert(param.to_string(), value);
                    }
                }
                target.op = serde_json::from_value(json!({ op.clone(): params }))
                    .map_err(|e| bad(&format!("step \"{step}\" ({op}): {e}")))?;
            }
        }
    }
    pipeline.validate()?;
    Ok(pipeline.to_string())
}

/// What the page runs frames on: one engine, the loaded image and the
/// outputs of the last run.
#[wasm_bindgen]
pub struct Playground {
    state: Rc<RefCell<State>>,
}

struct State {
    /// Out of its place while a frame runs: a second run at the same time
    /// is refused rather than waiting on a borrow across an await.
    engine: Option<Engine>,
    /// What the engine is, kept for while it is out: its description and
    /// whether it runs on the GPU (a GPU that fails moves it to the CPU).
    description: String,
    gpu: bool,
    /// Shared with a run in flight, so that a run does not copy it.
    input: Option<(Rc<Frame>, ColorKind)>,
    /// The last run's outputs, and the layout of the image they came from.
    outputs: Vec<(String, Frame)>,
    kind: ColorKind,
}

#[wasm_bindgen]
impl Playground {
    /// Opens an engine: `backend` is `auto` (a hardware WebGPU adapter
    /// when the browser has one, else the CPU backend on one thread: it
    /// beats a software adapter), `gpu` (any WebGPU adapter) or `cpu`.
    pub async fn open(backend: &str) -> Result<Playground, JsError> {
        let backend: Backend = backend.parse().map_err(|e: String| JsError::new(&e))?;
        let engine = Engine::open(backend).await?;
        Ok(Playground {
            state: Rc::new(RefCell::new(State {
                description: engine.describe().to_string(),
                gpu: engine.is_gpu(),
                engine: Some(engine),
                input: None,
                outputs: Vec::new(),
                kind: ColorKind::Rgba,
            })),
        })
    }

    /// Which backend and device, in words.
    pub fn describe(&self) -> String {
        self.state.borrow().description.clone()
    }

    /// Whether frames run on the GPU (WebGPU).
    pub fn is_gpu(&self) -> bool {
        self.state.borrow().gpu
    }

    /// Decodes an image file's bytes (`name` for messages and its format)
    /// as the CLI does, EXIF orientation applied. Gives `{width, height,
    /// notes}`.
    pub fn load_image(&self, bytes: &[u8], name: &str) -> Result<String, JsError> {
        let (image, notes) = decode_noted(bytes, Path::new(name))?;
        let (frame, kind) = to_frame(&image);
        let size = frame.size();
        self.state.borrow_mut().input = Some((Rc::new(frame), kind));
        let notes: Vec<String> = notes.iter().map(ToString::to_string).collect();
        Ok(json!({"width": size.width, "height": size.height, "notes": notes}).to_string())
    }

    /// Runs pipeline `text` (see [`check`] for `name`) on the loaded image
    /// as frame `frame` of a batch (it changes what animated steps draw).
    /// Resolves to `{outputs: [{name, width, height}], ms}`; the frames are
    /// then read with [`Playground::rgba`] and [`Playground::png`].
    pub fn run(&self, text: String, name: String, frame: u32) -> js_sys::Promise {
        let state = self.state.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let result = run(&state, &text, &name, frame).await;
            result.map(JsValue::from).map_err(JsValue::from)
        })
    }

    /// Output `index` of the last run as RGBA bytes, row by row, for a
    /// canvas's `ImageData`.
    pub fn rgba(&self, index: usize) -> Result<Vec<u8>, JsError> {
        let state = self.state.borrow();
        let (_, frame) = output(&state, index)?;
        Ok(from_frame(frame, ColorKind::Rgba).into_bytes())
    }

    /// Output `index` of the last run as a PNG file, in the input's own
    /// layout (a gray image stays gray, alpha stays), as the CLI writes it.
    pub fn png(&self, index: usize) -> Result<Vec<u8>, JsError> {
        let state = self.state.borrow();
        let (_, frame) = output(&state, index)?;
        let mut png = std::io::Cursor::new(Vec::new());
        from_frame(frame, state.kind).write_to(&mut png, image::ImageFormat::Png)?;
        Ok(png.into_inner())
    }
}

fn output(state: &State, index: usize) -> Result<&(String, Frame), JsError> {
    state.outputs.get(index).ok_or_else(|| {
        JsError::new(&format!(
            "output {index} does not exist (the last run made {})",
            state.outputs.len()
        ))
    })
}

async fn run(
    state: &RefCell<State>,
    text: &str,
    name: &str,
    frame: u32,
) -> Result<String, JsError> {
    let pipeline = parse(text, name)?.pipeline;
    let plan = compile(&pipeline, Keep::Outputs)?;
    let ((input, kind), mut engine) = {
        let mut st = state.borrow_mut();
        let input = st
            .input
            .clone()
            .ok_or_else(|| JsError::new("no image loaded"))?;
        let engine = st
            .engine
            .take()
            .ok_or_else(|| JsError::new("a frame is already running"))?;
        (input, engine)
    };
    let start = now_ms();
    let result = engine.run_frame_async(&plan, &input, frame).await;
    let ms = now_ms() - start;
    let mut st = state.borrow_mut();
    st.description = engine.describe().to_string();
    st.gpu = engine.is_gpu();
    st.engine = Some(engine);
    let frames = result?;
    let names = plan.output_names();
    let listed: Vec<Value> = names
        .iter()
        .zip(&frames)
        .map(|(n, f)| json!({"name": n, "width": f.width(), "height": f.height()}))
        .collect();
    st.outputs = names.iter().map(|n| n.to_string()).zip(frames).collect();
    st.kind = kind;
    Ok(json!({"outputs": listed, "ms": ms}).to_string())
}

/// Milliseconds on the page's clock (`std::time::Instant` panics on the web).
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
