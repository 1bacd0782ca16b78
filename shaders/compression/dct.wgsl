// The accurate integer DCT and IDCT, one 8-point pass at a time
// (jfdctint.c, jidctint.c), and the range limit after it. Twin:
// src/ops/compression/dct.rs.

const CONST_BITS: i32 = 13;
const PASS1_BITS: i32 = 2;

fn descale(x: i32, n: i32) -> i32 {
    return (x + (1 << u32(n - 1))) >> u32(n);
}

fn fdct8(d: array<i32, 8>, first: bool) -> array<i32, 8> {
    let tmp0 = d[0] + d[7];
    let tmp7 = d[0] - d[7];
    let tmp1 = d[1] + d[6];
    let tmp6 = d[1] - d[6];
    let tmp2 = d[2] + d[5];
    let tmp5 = d[2] - d[5];
    let tmp3 = d[3] + d[4];
    let tmp4 = d[3] - d[4];
    let tmp10 = tmp0 + tmp3;
    let tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;
    var o: array<i32, 8>;
    var n = CONST_BITS + PASS1_BITS;
    if (first) {
        o[0] = (tmp10 + tmp11) << u32(PASS1_BITS);
        o[4] = (tmp10 - tmp11) << u32(PASS1_BITS);
        n = CONST_BITS - PASS1_BITS;
    } else {
        o[0] = descale(tmp10 + tmp11, PASS1_BITS);
        o[4] = descale(tmp10 - tmp11, PASS1_BITS);
    }
    let z1 = (tmp12 + tmp13) * 4433;
    o[2] = descale(z1 + tmp13 * 6270, n);
    o[6] = descale(z1 - tmp12 * 15137, n);

    let z5 = (tmp4 + tmp6 + tmp5 + tmp7) * 9633;
    let m1 = (tmp4 + tmp7) * -7373;
    let m2 = (tmp5 + tmp6) * -20995;
    let m3 = (tmp4 + tmp6) * -16069 + z5;
    let m4 = (tmp5 + tmp7) * -3196 + z5;
    o[7] = descale(tmp4 * 2446 + m1 + m3, n);
    o[5] = descale(tmp5 * 16819 + m2 + m4, n);
    o[3] = descale(tmp6 * 25172 + m2 + m3, n);
    o[1] = descale(tmp7 * 12299 + m1 + m4, n);
    return o;
}

fn idct8(d: array<i32, 8>, n: i32) -> array<i32, 8> {
    let z1 = (d[2] + d[6]) * 4433;
    let tmp2 = z1 - d[6] * 15137;
    let tmp3 = z1 + d[2] * 6270;
    let tmp0 = (d[0] + d[4]) << u32(CONST_BITS);
    let tmp1 = (d[0] - d[4]) << u32(CONST_BITS);
    let tmp10 = tmp0 + tmp3;
    let tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;

    let z5 = (d[7] + d[3] + d[5] + d[1]) * 9633;
    let m1 = (d[7] + d[1]) * -7373;
    let m2 = (d[5] + d[3]) * -20995;
    let m3 = (d[7] + d[3]) * -16069 + z5;
    let m4 = (d[5] + d[1]) * -3196 + z5;
    let t0 = d[7] * 2446 + m1 + m3;
    let t1 = d[5] * 16819 + m2 + m4;
    let t2 = d[3] * 25172 + m2 + m3;
    let t3 = d[1] * 12299 + m1 + m4;
    return array<i32, 8>(
        descale(tmp10 + t3, n),
        descale(tmp11 + t2, n),
        descale(tmp12 + t1, n),
        descale(tmp13 + t0, n),
        descale(tmp13 - t0, n),
        descale(tmp12 - t1, n),
        descale(tmp11 - t2, n),
        descale(tmp10 - t3, n),
    );
}

fn range_limit(x: i32) -> u32 {
    return u32(clamp((((x + 512) & 1023) - 512) + 128, 0, 255));
}
