"""The smallest valid rulebook, as YAML text, for tests that add one section to it."""

MINIMAL_RULEBOOK = (
    "id: x\nversion: '1'\nladders:\n"
    "  - {id: a, title: A, levels: [{name: L0, min: 0}, {name: L1, min: 10}]}\n"
)
