//! Every shader parses and validates with naga, and translates to SPIR-V
//! (Vulkan), MSL (Metal) and HLSL (DX12): a shader that would break on
//! Apple or Windows fails here on Linux.

use std::collections::BTreeSet;

use stillgraph::backend::gpu::shaders::{LIB, SHADERS, module_source};

fn validate(name: &str, source: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    (module, info)
}

#[test]
fn every_shader_validates_and_translates() {
    for (name, _) in SHADERS {
        let source = module_source(name).unwrap();
        let (module, info) = validate(name, &source);
        assert!(!module.entry_points.is_empty(), "{name} has no entry point");

        naga::back::spv::write_vec(&module, &info, &naga::back::spv::Options::default(), None)
            .unwrap_or_else(|e| panic!("{name} -> SPIR-V: {e}"));

        let options = naga::back::msl::Options {
            lang_version: (2, 1),
            fake_missing_bindings: true,
            ..Default::default()
        };
        let pipeline = naga::back::msl::PipelineOptions::default();
        naga::back::msl::write_string(&module, &info, &options, &pipeline)
            .unwrap_or_else(|e| panic!("{name} -> MSL: {e}"));

        let mut hlsl = String::new();
        let options = naga::back::hlsl::Options::default();
        let pipeline = naga::back::hlsl::PipelineOptions::default();
        naga::back::hlsl::Writer::new(&mut hlsl, &options, &pipeline)
            .write(&module, &info, None)
            .unwrap_or_else(|e| panic!("{name} -> HLSL: {e}"));
    }
}

/// The `.wgsl` files of `shaders/<sub>`, as `<sub><file>`.
fn wgsl_files(sub: &str) -> BTreeSet<String> {
    let dir = format!("{}/shaders/{sub}", env!("CARGO_MANIFEST_DIR"));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".wgsl"))
        .map(|name| format!("{sub}{name}"))
        .collect()
}

/// The files of an op split into stages (`shaders/<name>/`, joined into
/// one module by shaders.rs), or none for an op of one file.
fn stages(name: &str) -> BTreeSet<String> {
    wgsl_files(&format!("{name}/"))
}

#[test]
fn every_file_in_shaders_is_compiled_in() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    let mut listed: BTreeSet<String> = LIB.iter().map(|(n, _)| n.to_string()).collect();
    for (name, body) in SHADERS {
        let stages = stages(name);
        if stages.is_empty() {
            listed.insert(format!("{name}.wgsl"));
            continue;
        }
        // The body is its stage files joined: each is in it, and nothing else.
        let mut len = 0;
        for stage in &stages {
            let text = std::fs::read_to_string(format!("{dir}/{stage}")).unwrap();
            assert!(
                body.contains(&text),
                "shaders/{stage} is not joined into {name}"
            );
            len += text.len();
        }
        assert_eq!(len, body.len(), "{name} holds more than shaders/{name}/");
        listed.extend(stages);
    }
    let mut on_disk = wgsl_files("");
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            let sub = entry.file_name().into_string().unwrap();
            on_disk.extend(wgsl_files(&format!("{sub}/")));
        }
    }
    assert_eq!(
        listed, on_disk,
        "shaders/ and backend/gpu/shaders.rs disagree"
    );
}

/// `shaders/<name>.wgsl` has `src/ops/<name>.rs`; an op split into stages
/// is a module, `src/ops/<name>/mod.rs` (whose twin is the stages'
/// `kernels.wgsl`), with a `<stage>.rs` beside each `<stage>.wgsl`.
#[test]
fn every_op_shader_has_an_op_file_of_the_same_name() {
    let ops = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ops");
    let exists = |path: &str| std::path::Path::new(&format!("{ops}/{path}")).exists();
    for (name, _) in SHADERS {
        let stages = stages(name);
        if stages.is_empty() {
            assert!(
                exists(&format!("{name}.rs")),
                "shaders/{name}.wgsl has no src/ops/{name}.rs"
            );
            continue;
        }
        assert!(
            exists(&format!("{name}/mod.rs")),
            "shaders/{name}/ has no src/ops/{name}/mod.rs"
        );
        for stage in stages {
            let rs = stage.replace(".wgsl", ".rs");
            assert!(
                rs == format!("{name}/kernels.rs") || exists(&rs),
                "shaders/{stage} has no src/ops/{rs}"
            );
        }
    }
}
