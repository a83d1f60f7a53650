#include "daemon/store/store.hpp"

namespace linkpilot::store {

std::string_view to_string(StoreError::Kind k) {
    switch (k) {
        case StoreError::Kind::busy:
            return "busy";
        case StoreError::Kind::full:
            return "full";
        case StoreError::Kind::readonly:
            return "readonly";
        case StoreError::Kind::io:
            return "io";
        case StoreError::Kind::corrupt:
            return "corrupt";
        case StoreError::Kind::invalid:
            return "invalid";
        case StoreError::Kind::not_found:
            return "not_found";
        case StoreError::Kind::invalid_state:
            return "invalid_state";
        case StoreError::Kind::cancelled:
            return "cancelled";
        case StoreError::Kind::other:
            return "other";
    }
    return "other";
}

}  // namespace linkpilot::store
