//! Field interpretation (OWNED BY: the tables work, helper B).
