// Holds the shared test precompiled header (tests/support/test_pch.hpp); no code of its own.
