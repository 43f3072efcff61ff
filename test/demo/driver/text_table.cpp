#include "text_table.hpp"

#include <algorithm>
#include <cstdio>

namespace demo {

std::vector<std::string> TextTable::render() const
{
	std::vector<std::size_t> width;
	for (const auto &row : rows_) {
		if (width.size() < row.size())
			width.resize(row.size(), 0);
		for (std::size_t i = 0; i < row.size(); ++i)
			width[i] = std::max(width[i], row[i].size());
	}
	std::vector<std::string> lines;
	for (std::size_t r = 0; r < rows_.size(); ++r) {
		std::string line;
		for (std::size_t i = 0; i < width.size(); ++i) {
			const std::string cell = i < rows_[r].size() ? rows_[r][i] : "";
			const std::string pad(width[i] - cell.size(), ' ');
			if (i > 0)
				line += "  ";
			line += i == 0 ? cell + pad : pad + cell;
		}
		while (!line.empty() && line.back() == ' ')
			line.pop_back();
		lines.push_back(line);
		if (r == 0) {
			std::size_t total = 0;
			for (std::size_t w : width)
				total += w;
			lines.push_back(std::string(total + 2 * (width.size() - 1), '-'));
		}
	}
	return lines;
}

std::string fixed(double value, int decimals)
{
	char text[64];
	std::snprintf(text, sizeof text, "%.*f", decimals, value);
	return text;
}

}  // namespace demo
