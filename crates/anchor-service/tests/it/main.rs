//! Integration tests of the anchor service.
