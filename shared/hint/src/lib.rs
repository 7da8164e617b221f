//! Hints to the CPU that std has not stabilized (`std::hint::prefetch_read` is nightly-only).
//!
//! Written here because no maintained crate offers a safe prefetch: the intrinsic is `unsafe` to call
//! although a prefetch reads nothing, cannot fault and changes no result. Taking a reference, as
//! [`prefetch`] does, makes the call sound whatever the caller passes.

/// Starts fetching the cache line that holds `value` into every level of cache, without waiting for it.
///
/// A load that misses holds up the instructions after it once the processor's window fills; a prefetch
/// does not, so work done between the prefetch and the read hides the miss. A no-op where the target has
/// no stable prefetch (wasm32, among others).
#[inline(always)]
pub fn prefetch<T: ?Sized>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` is a hint that neither reads nor writes memory and cannot fault, for any
    // address; this one is a live reference's. SSE, which it needs, is part of every x86_64 target.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((value as *const T).cast::<i8>());
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `prfm` is a hint that neither reads nor writes memory and cannot fault, for any address; this
    // one is a live reference's.
    unsafe {
        std::arch::asm!(
            "prfm pldl1keep, [{address}]",
            address = in(reg) (value as *const T).cast::<u8>(),
            options(nostack, preserves_flags, readonly)
        );
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = value;
}
