// Plain-text tables: the first column left-aligned, the others right-aligned.
#pragma once

#include <string>
#include <vector>

namespace demo {

class TextTable {
public:
	explicit TextTable(std::vector<std::string> header) : rows_{std::move(header)} {}
	void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
	// One string per line: the header, a rule, then the rows.
	std::vector<std::string> render() const;

private:
	std::vector<std::vector<std::string>> rows_;
};

std::string fixed(double value, int decimals);

}  // namespace demo
