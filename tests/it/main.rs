//! The one integration-test binary; each module is a self-contained area.

mod emulator;
