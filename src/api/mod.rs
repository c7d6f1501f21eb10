//! The TIM REST client: wire types, signing, pacing and retries.
