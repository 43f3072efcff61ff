// A thin RAII layer over libpq: one PgConn owns one PGconn, one PgResult owns
// one PGresult, and every statement goes through PQexecParams with $n
// parameters. Any result other than TUPLES_OK / COMMAND_OK throws PgError.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace demo {

class PgError : public std::runtime_error {
public:
	PgError(const std::string &message, std::string sqlstate)
		: std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
	const std::string &sqlstate() const { return sqlstate_; }
	// Class 08 (connection exception) or a dead connection.
	bool connection_lost() const { return sqlstate_.rfind("08", 0) == 0; }

private:
	std::string sqlstate_;
};

// A statement parameter; std::nullopt is SQL NULL.
using Param = std::optional<std::string>;

class PgResult {
public:
	explicit PgResult(PGresult *result) : result_(result, &PQclear) {}
	int rows() const { return PQntuples(result_.get()); }
	bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
	std::string text(int row, int column) const;   // "" when NULL
	long long integer(int row, int column) const;  // 0 when NULL
	double number(int row, int column) const;      // 0 when NULL
	bool boolean(int row, int column) const;       // false when NULL
	long long affected() const;                    // rows changed by INSERT/UPDATE/DELETE

private:
	std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

class PgConn {
public:
	using NoticeHandler = std::function<void(const std::string &)>;

	// conninfo may be empty (libpq's PG* environment) or any conninfo string
	// or URI; application_name shows in pg_stat_activity.
	PgConn(const std::string &conninfo, const std::string &application_name,
	       NoticeHandler on_notice = nullptr);
	PgConn(const PgConn &) = delete;
	PgConn &operator=(const PgConn &) = delete;

	PgResult exec(const std::string &sql, const std::vector<Param> &params = {});
	int backend_pid() const;
	// Drops the connection at once, like a crashed process: the server rolls
	// back whatever transaction was open.
	void abandon();

private:
	static void receive_notice(void *self, const PGresult *result);

	std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
	NoticeHandler on_notice_;
};

// BEGIN on construction; ROLLBACK on destruction unless committed.
class Transaction {
public:
	explicit Transaction(PgConn &conn);
	Transaction(const Transaction &) = delete;
	Transaction &operator=(const Transaction &) = delete;
	~Transaction();
	void commit();
	void rollback();

private:
	PgConn &conn_;
	bool open_ = true;
};

// A text[] literal for one parameter: {"a","b"} with quotes and backslashes escaped.
std::string pg_text_array(const std::vector<std::string> &values);

}  // namespace demo
