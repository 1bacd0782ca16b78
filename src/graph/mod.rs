//! What will run: a pipeline compiled into a plan. Names are resolved, the
//! steps put in topological order (cycles and dangling inputs rejected),
//! repeats unrolled into nodes, and every node's frame given a buffer slot
//! that is reused once its last reader has run. Output sizes are inferred
//! per input size, since a batch may mix sizes.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use crate::frame::Size;
use crate::ops::{Op, ParamError};
use crate::pipeline::{INPUT, Pipeline, PipelineError};
use crate::rng::RngKey;

/// Where a node reads a frame from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The pipeline's input frame.
    Input,
    /// The frame of an earlier node.
    Node(usize),
}

/// Which frames must survive to the end of a frame's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Only the outputs.
    Outputs,
    /// Every step's result too (`--save-intermediate`).
    Steps,
}

/// One application of an op.
#[derive(Debug)]
pub struct Node {
    /// The step's name, with `#k` for its k-th repeat (k ≥ 2).
    pub name: String,
    /// Index of the step in the pipeline.
    pub step: usize,
    pub repeat: u32,
    pub op: Box<dyn Op>,
    pub inputs: Vec<Source>,
    /// Buffer slot holding this node's frame.
    pub slot: usize,
    seed: u64,
    animate: bool,
}

impl Node {
    /// The key of this node's random draws on frame `frame`.
    pub fn key(&self, frame: u32) -> RngKey {
        RngKey::new(self.seed, self.repeat, if self.animate { frame } else { 0 })
    }
}

/// The executable plan: nodes in the order they run.
#[derive(Debug)]
pub struct Plan {
    pub nodes: Vec<Node>,
    /// Slot of the pipeline's input frame.
    pub input_slot: usize,
    /// How many frame buffers the plan needs at once.
    pub slots: usize,
    /// Nodes whose frames are read back after a run: the outputs, then (with
    /// [`Keep::Steps`]) every other step's last node. Each with its step name.
    pub reads: Vec<(usize, String)>,
    /// How many of `reads` are outputs.
    pub outputs: usize,
}

/// A frame size that an op cannot produce.
#[derive(Debug, thiserror::Error)]
#[error("step \"{step}\": {source}")]
pub struct SizeError {
    pub step: String,
    pub source: Box<ParamError>,
}

/// The most nodes (steps × repeats, unrolled) a plan may have. Compiling is
/// linear in them, but every node is a dispatch (or a CPU pass) on every
/// frame and holds its own op; a file past this is a mistake or an attack,
/// and is refused before anything is built. Real pipelines have tens.
pub const MAX_NODES: usize = 100_000;

/// How many step names an error about a dangling input lists.
const LISTED_NAMES: usize = 40;

/// Compiles a validated pipeline.
pub fn compile(pipeline: &Pipeline, keep: Keep) -> Result<Plan, PipelineError> {
    let origin = || pipeline.origin.clone();
    let steps = &pipeline.steps;
    let mut count = 0usize;
    for step in steps {
        count += step.repeat as usize;
        if count > MAX_NODES {
            let total: usize = steps.iter().map(|s| s.repeat as usize).sum();
            return Err(PipelineError::Invalid {
                origin: origin(),
                message: format!(
                    "the steps unroll to {total} nodes (steps × repeats), more than the cap \
                     of {MAX_NODES}; step \"{}\" (repeat: {}) passes it",
                    step.name, step.repeat
                ),
            });
        }
    }
    let index: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();

    // Resolve every step's inputs to step indices (None = pipeline input).
    let mut reads: Vec<Vec<Option<usize>>> = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let arity = step.op.build().arity();
        let named: Vec<Option<usize>> = if step.inputs.is_empty() {
            vec![i.checked_sub(1)]
        } else {
            step.inputs
                .iter()
                .map(|name| match index.get(name.as_str()) {
                    _ if name == INPUT => Ok(None),
                    Some(&j) => Ok(Some(j)),
                    None => {
                        let others = steps
                            .iter()
                            .map(|s| s.name.as_str())
                            .filter(|n| *n != step.name);
                        // A few dozen names help; a huge file's every name would not.
                        let listed: Vec<&str> = others.clone().take(LISTED_NAMES).collect();
                        let more = others.count() - listed.len();
                        let mut valid = std::iter::once(INPUT)
                            .chain(listed)
                            .collect::<Vec<_>>()
                            .join(", ");
                        if more > 0 {
                            let _ = write!(valid, " and {more} more");
                        }
                        Err(PipelineError::Invalid {
                            origin: origin(),
                            message: format!(
                                "step \"{}\" reads \"{name}\", which is no step (valid: {valid})",
                                step.name
                            ),
                        })
                    }
                })
                .collect::<Result<_, _>>()?
        };
        if named.len() != arity {
            return Err(PipelineError::Invalid {
                origin: origin(),
                message: format!(
                    "step \"{}\" ({}) reads {} frame(s) but the op takes {arity}",
                    step.name,
                    step.op.name(),
                    named.len()
                ),
            });
        }
        reads.push(named);
    }

    let order = topological_order(&reads).map_err(|cycle| PipelineError::Cycle {
        origin: origin(),
        steps: cycle.iter().map(|&i| steps[i].name.clone()).collect(),
    })?;

    // Unroll repeats: the first repeat reads the step's inputs, each later
    // one reads the repeat before it.
    let mut nodes: Vec<Node> = Vec::new();
    let mut last_node_of_step = vec![0usize; steps.len()];
    for &s in &order {
        let step = &steps[s];
        for r in 0..step.repeat {
            let inputs = if r == 0 {
                reads[s]
                    .iter()
                    .map(|src| src.map_or(Source::Input, |j| Source::Node(last_node_of_step[j])))
                    .collect()
            } else {
                vec![Source::Node(nodes.len() - 1)]
            };
            nodes.push(Node {
                name: if r == 0 {
                    step.name.clone()
                } else {
                    format!("{}#{}", step.name, r + 1)
                },
                step: s,
                repeat: r,
                op: step.op.build(),
                inputs,
                slot: 0,
                seed: pipeline.step_seed(s),
                animate: step.animate,
            });
        }
        last_node_of_step[s] = nodes.len() - 1;
    }

    let marked: Vec<usize> = (0..steps.len()).filter(|&s| steps[s].output).collect();
    let output_steps = if marked.is_empty() {
        vec![steps.len() - 1]
    } else {
        marked
    };
    let mut read_back: Vec<(usize, String)> = output_steps
        .iter()
        .map(|&s| (last_node_of_step[s], steps[s].name.clone()))
        .collect();
    let outputs = read_back.len();
    if keep == Keep::Steps {
        let mut is_output = vec![false; steps.len()];
        output_steps.iter().for_each(|&s| is_output[s] = true);
        for &s in &order {
            if !is_output[s] {
                read_back.push((last_node_of_step[s], steps[s].name.clone()));
            }
        }
    }

    let (input_slot, slots) = assign_slots(&mut nodes, &read_back);
    Ok(Plan {
        nodes,
        input_slot,
        slots,
        reads: read_back,
        outputs,
    })
}

/// Kahn's algorithm over steps (in file order among ready steps); on a cycle,
/// returns the steps of one cycle in reading order.
fn topological_order(reads: &[Vec<Option<usize>>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = reads.len();
    let mut pending: Vec<usize> = reads.iter().map(|r| r.iter().flatten().count()).collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in reads.iter().enumerate() {
        for &j in r.iter().flatten() {
            readers[j].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).rev().filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &k in readers[i].iter().rev() {
            pending[k] -= 1;
            if pending[k] == 0 {
                ready.push(k);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Every unplaced step reads another unplaced one: walk back until a repeat.
    let mut seen = vec![usize::MAX; n];
    let mut path = Vec::new();
    let mut at = (0..n).find(|&i| pending[i] > 0).unwrap_or(0);
    while seen[at] == usize::MAX {
        seen[at] = path.len();
        path.push(at);
        at = reads[at]
            .iter()
            .flatten()
            .copied()
            .find(|&j| pending[j] > 0)
            .unwrap_or(at);
    }
    let mut cycle = path.split_off(seen[at]);
    cycle.reverse();
    cycle.push(cycle[0]);
    Err(cycle)
}

/// Gives each frame a slot, reusing a slot once the last reader of its frame
/// has run. A node's output never shares a slot with its inputs, since it is
/// taken before they are released. Returns (input slot, slot count).
fn assign_slots(nodes: &mut [Node], read_back: &[(usize, String)]) -> (usize, usize) {
    let end = nodes.len();
    let mut last_read_of_input = 0;
    let mut last_read = vec![0usize; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        last_read[i] = i;
        for src in &node.inputs {
            match *src {
                Source::Input => last_read_of_input = i,
                Source::Node(j) => last_read[j] = i,
            }
        }
    }
    for (n, _) in read_back {
        last_read[*n] = end;
    }
    // The nodes whose frames die at each node, so that freeing is one pass
    // over the nodes rather than a scan of all earlier nodes at each one.
    let mut dies_at: Vec<Vec<usize>> = vec![Vec::new(); end];
    for (j, &at) in last_read.iter().enumerate() {
        if at < end {
            dies_at[at].push(j);
        }
    }
    let mut free: Vec<usize> = Vec::new();
    let input_slot = 0;
    let mut count = 1;
    for i in 0..nodes.len() {
        nodes[i].slot = free.pop().unwrap_or_else(|| {
            count += 1;
            count - 1
        });
        if last_read_of_input == i {
            free.push(input_slot);
        }
        for &j in &dies_at[i] {
            free.push(nodes[j].slot);
        }
    }
    (input_slot, count)
}

impl Plan {
    /// The frame size of every node for an input of `input`.
    pub fn sizes(&self, input: Size) -> Result<Vec<Size>, SizeError> {
        let mut sizes: Vec<Size> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let ins: Vec<Size> = node
                .inputs
                .iter()
                .map(|s| self.size_of(*s, input, &sizes))
                .collect();
            let size = node.op.output_size(&ins).map_err(|source| SizeError {
                step: node.name.clone(),
                source: Box::new(source),
            })?;
            sizes.push(size);
        }
        Ok(sizes)
    }

    /// The size of a source given the node sizes so far.
    pub fn size_of(&self, src: Source, input: Size, sizes: &[Size]) -> Size {
        match src {
            Source::Input => input,
            Source::Node(j) => sizes[j],
        }
    }

    /// The plan as text, one node a line, with sizes for an input of `input`.
    pub fn describe(&self, input: Size) -> String {
        let sizes = self.sizes(input).ok();
        let mut s = format!("input {input} -> slot {}\n", self.input_slot);
        for (i, node) in self.nodes.iter().enumerate() {
            let reads: Vec<String> = node
                .inputs
                .iter()
                .map(|src| self.source_name(*src))
                .collect();
            let size = sizes.as_ref().map_or("?".into(), |z| z[i].to_string());
            let _ = writeln!(
                s,
                "{i:>3} {:<20} {:<14} reads {:<16} {size:>11} -> slot {}",
                node.name,
                node.op.name(),
                reads.join(", "),
                node.slot
            );
        }
        let _ = writeln!(
            s,
            "{} frame buffers; outputs: {}",
            self.slots,
            self.output_names().join(", ")
        );
        s
    }

    /// The plan as a Graphviz DOT graph.
    pub fn dot(&self) -> String {
        let mut s = String::from("digraph pipeline {\n  rankdir=LR;\n  input [shape=box];\n");
        for (i, node) in self.nodes.iter().enumerate() {
            let shape = if self.reads[..self.outputs].iter().any(|(n, _)| *n == i) {
                "doubleoctagon"
            } else {
                "ellipse"
            };
            let _ = writeln!(
                s,
                "  n{i} [label=\"{}\\n{}\", shape={shape}];",
                node.name.replace('"', "\\\""),
                node.op.name()
            );
            for src in &node.inputs {
                let from = match src {
                    Source::Input => "input".to_string(),
                    Source::Node(j) => format!("n{j}"),
                };
                let _ = writeln!(s, "  {from} -> n{i};");
            }
        }
        s.push_str("}\n");
        s
    }

    fn source_name(&self, src: Source) -> String {
        match src {
            Source::Input => INPUT.to_string(),
            Source::Node(j) => self.nodes[j].name.clone(),
        }
    }

    /// Names of the output steps.
    pub fn output_names(&self) -> Vec<&str> {
        self.reads[..self.outputs]
            .iter()
            .map(|(_, n)| n.as_str())
            .collect()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Size::new(1920, 1080)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Result<Plan, PipelineError> {
        let p = Pipeline::parse(text, "t.ron")?;
        compile(&p, Keep::Outputs)
    }

    const BLUR: &str = "blur_gaussian(sigma: 1.0)";

    #[test]
    fn a_chain_reuses_two_slots_beyond_the_input() {
        let text = format!(
            "(steps: [(name: \"a\", op: {BLUR}), (name: \"b\", op: {BLUR}, repeat: 3), (name: \"c\", op: {BLUR})])"
        );
        let p = plan(&text).unwrap();
        let names: Vec<_> = p.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "b#2", "b#3", "c"]);
        assert!(p.slots <= 3, "{p}");
        for (i, node) in p.nodes.iter().enumerate() {
            for src in &node.inputs {
                let slot = match *src {
                    Source::Input => p.input_slot,
                    Source::Node(j) => p.nodes[j].slot,
                };
                assert_ne!(slot, node.slot, "node {i} would overwrite its input");
            }
        }
        assert_eq!(p.reads, [(4, "c".to_string())]);
    }

    #[test]
    fn branches_keep_the_shared_frame_alive() {
        let text = format!(
            "(steps: [(name: \"a\", op: {BLUR}), (name: \"b\", op: {BLUR}, output: true), \
             (name: \"c\", op: {BLUR}, inputs: [\"a\"], output: true)])"
        );
        let p = plan(&text).unwrap();
        assert_ne!(p.nodes[1].slot, p.nodes[0].slot);
        assert_ne!(p.nodes[1].slot, p.nodes[2].slot, "output b must survive c");
        assert_eq!(p.output_names(), ["b", "c"]);
    }

    #[test]
    fn steps_may_be_written_out_of_order() {
        let text = format!(
            "(steps: [(name: \"late\", op: {BLUR}, inputs: [\"early\"]), (name: \"early\", op: {BLUR}, inputs: [\"input\"], output: true)])"
        );
        let p = plan(&text).unwrap();
        assert_eq!(p.nodes[0].name, "early");
        assert_eq!(p.nodes[1].inputs, [Source::Node(0)]);
    }

    #[test]
    fn cycles_name_their_steps() {
        let text = format!(
            "(steps: [(name: \"a\", op: {BLUR}, inputs: [\"c\"]), (name: \"b\", op: {BLUR}, inputs: [\"a\"]), (name: \"c\", op: {BLUR}, inputs: [\"b\"])])"
        );
        let msg = plan(&text).unwrap_err().to_string();
        assert!(
            msg.contains("cycle")
                && msg.contains("\"a\"")
                && msg.contains("\"b\"")
                && msg.contains("\"c\""),
            "{msg}"
        );
    }

    #[test]
    fn dangling_inputs_list_valid_names() {
        let text = format!("(steps: [(name: \"a\", op: {BLUR}, inputs: [\"nope\"])])");
        let msg = plan(&text).unwrap_err().to_string();
        assert!(
            msg.contains("\"nope\"") && msg.contains("valid: input"),
            "{msg}"
        );
        // A long file lists the first few names and counts the rest.
        let text = chain(100, 1).replace("repeat: 1),])", "repeat: 1, inputs: [\"nope\"]),])");
        let msg = plan(&text).unwrap_err().to_string();
        assert!(
            msg.ends_with(&format!(
                "s{}, s{} and {} more)",
                LISTED_NAMES - 2,
                LISTED_NAMES - 1,
                99 - LISTED_NAMES
            )),
            "{msg}"
        );
    }

    #[test]
    fn sizes_follow_the_ops() {
        let p = plan("(steps: [(name: \"a\", op: resize(scale: 0.5)), (name: \"b\", op: downscale(scale: 0.1))])").unwrap();
        let sizes = p.sizes(Size::new(100, 60)).unwrap();
        assert_eq!(sizes, [Size::new(50, 30), Size::new(50, 30)]);
        assert!(p.dot().contains("n0 -> n1"));
    }

    /// `steps` steps of `repeat` repeats each, in a chain.
    fn chain(steps: usize, repeat: u32) -> String {
        let mut text = String::from("(steps: [");
        for i in 0..steps {
            let _ = write!(
                text,
                "(name: \"s{i}\", op: saturation(mode: fixed, value: 0.5), repeat: {repeat}),"
            );
        }
        text + "])"
    }

    #[test]
    fn the_node_cap_is_reached_but_not_passed() {
        let repeat = 100;
        let steps = MAX_NODES / repeat as usize;
        let p = plan(&chain(steps, repeat)).unwrap();
        assert_eq!(p.nodes.len(), MAX_NODES);
        assert_eq!(p.slots, 2, "a chain needs two frames, the input's reused");

        let msg = plan(&chain(steps + 1, repeat)).unwrap_err().to_string();
        let total = MAX_NODES + repeat as usize;
        let want = format!(
            "the steps unroll to {total} nodes (steps × repeats), more than the cap of \
             {MAX_NODES}; step \"s{steps}\" (repeat: {repeat}) passes it"
        );
        assert_eq!(msg, format!("t.ron: {want}"));
    }

    #[test]
    fn every_kept_frame_survives_to_the_end() {
        // Keep::Steps over a long chain: no step's slot is reused, since
        // every step's frame is read back after the run.
        let p = Pipeline::parse(&chain(500, 1), "t.ron").unwrap();
        let plan = compile(&p, Keep::Steps).unwrap();
        assert_eq!(plan.reads.len(), 500);
        let mut slots: Vec<usize> = plan
            .reads
            .iter()
            .map(|(n, _)| plan.nodes[*n].slot)
            .collect();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), 500);
        assert_eq!(plan.slots, 500, "the input's slot is reused once read");
    }
}
