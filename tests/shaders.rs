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

#[test]
fn every_file_in_shaders_is_compiled_in() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    let listed: BTreeSet<String> = SHADERS
        .iter()
        .map(|(n, _)| format!("{n}.wgsl"))
        .chain(LIB.iter().map(|(n, _)| n.to_string()))
        .collect();
    let mut on_disk = BTreeSet::new();
    for sub in ["", "lib/"] {
        for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".wgsl") {
                on_disk.insert(format!("{sub}{name}"));
            }
        }
    }
    assert_eq!(
        listed, on_disk,
        "shaders/ and backend/gpu/shaders.rs disagree"
    );
}

#[test]
fn every_op_shader_has_an_op_file_of_the_same_name() {
    for (name, _) in SHADERS {
        let path = format!("{}/src/ops/{name}.rs", env!("CARGO_MANIFEST_DIR"));
        assert!(
            std::path::Path::new(&path).exists(),
            "shaders/{name}.wgsl has no src/ops/{name}.rs"
        );
    }
}
