#pragma once

// Scalingo's page arithmetic for list endpoints (meta.pagination).

#include <algorithm>
#include <cstddef>
#include <optional>

namespace linkpilot::simulator {

inline constexpr std::size_t kDefaultPerPage = 20;
inline constexpr std::size_t kMaxPerPage = 100;

struct Page {
    std::size_t current_page = 1;
    std::optional<std::size_t> prev_page;
    std::optional<std::size_t> next_page;
    std::size_t total_pages = 1;
    std::size_t total_count = 0;
    std::size_t begin = 0;  // slice [begin, end) of the full list
    std::size_t end = 0;
};

// `page` is 1-based; an empty list still has one (empty) page. Pages past the end are empty.
inline Page paginate(std::size_t total, std::size_t page, std::size_t per_page) {
    per_page = std::clamp<std::size_t>(per_page, 1, kMaxPerPage);
    page = std::max<std::size_t>(page, 1);
    Page p;
    p.current_page = page;
    p.total_count = total;
    p.total_pages = std::max<std::size_t>(1, (total + per_page - 1) / per_page);
    if (page > 1) {
        p.prev_page = std::min(page - 1, p.total_pages);
    }
    if (page < p.total_pages) {
        p.next_page = page + 1;
    }
    p.begin = std::min(total, (page - 1) * per_page);
    p.end = std::min(total, p.begin + per_page);
    return p;
}

}  // namespace linkpilot::simulator
