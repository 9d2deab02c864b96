//! Lookup tables kept as data (OWNED BY: the tables work, helper B).
