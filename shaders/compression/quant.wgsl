// Quantization and back, by the reciprocal division of libjpeg-turbo
// (jcdctmgr.c); the tables and their reciprocals are built on the CPU.
// Twin: src/ops/compression/quant.rs.

fn requantize(x: i32, q: vec4<u32>) -> i32 {
    let n = i32(((u32(abs(x)) + q.z) * q.y) >> q.w);
    return select(n, -n, x < 0) * i32(q.x);
}
