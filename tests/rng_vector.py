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
