//! Rendering of plans (human text, JSON, Markdown).
