//! Link settings for the `gatehouse` binary.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        // Packed relative relocations (DT_RELR, glibc 2.36 and later): the executable's ~27,000
        // relative relocations shrink from 650 KB of `.rela.dyn`, which the dynamic loader reads
        // whole (and keeps resident) at every start, to a few KB (docs/performance.md, idle RSS).
        println!("cargo:rustc-link-arg-bin=gatehouse=-Wl,-z,pack-relative-relocs");
    }
}
