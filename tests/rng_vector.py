# Independent computation of the pcg4d test vector in src/rng.rs and
# tests/gpu.rs, straight from Jarzynski and Olano (JCGT 2020), listing 3.
M = 0xFFFFFFFF

def pcg4d(v):
    v = [(x * 1664525 + 1013904223) & M for x in v]
    def mix(v):
        x, y, z, w = v
        x = (x + y * w) & M
        y = (y + z * x) & M
        z = (z + x * y) & M
        w = (w + y * z) & M
        return [x, y, z, w]
    v = mix(v)
    v = [x ^ (x >> 16) for x in v]
    return mix(v)

for v in ([0, 0, 0, 0], [1, 2, 3, 4], [0xDEADBEEF, 0xFFFFFFFF, 12345, 0x80000000]):
    print(v, [hex(x) for x in pcg4d(v)])

# Independent computation of GAUSSIAN_TEST_VECTOR in src/rng.rs: Box-Muller
# on two 24-bit uniforms, u1 = 1 - (a >> 8) / 2^24 (never 0), u2 = (b >> 8) / 2^24,
# in double precision (the f32 functions are held to it with a tolerance).
import math

for a, b in ((0, 0), (0xFFFFFFFF, 0x40000000), (0x80000000, 0x20000000), (0x12345678, 0x9ABCDEF0)):
    u1 = 1 - (a >> 8) / 2**24
    u2 = (b >> 8) / 2**24
    r = math.sqrt(-2 * math.log(u1))
    print(hex(a), hex(b), r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2))
