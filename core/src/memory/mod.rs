//! The memory (docs/ARCHITECTURE.md §5.2): the encoder E (audio → embedding), the Fuzzy ART
//! memory of prototypes in embedding space, and re-embedding a prototype's own sound.

pub mod art;
pub mod encoder;
pub mod reembed;
