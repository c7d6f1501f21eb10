//! The emulator of the TIM group REST API (own wire types; never imports `api`).
