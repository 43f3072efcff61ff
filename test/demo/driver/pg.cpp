#include "pg.hpp"

#include <cstdlib>

namespace demo {

std::string PgResult::text(int row, int column) const
{
	return is_null(row, column) ? std::string() : std::string(PQgetvalue(result_.get(), row, column));
}

long long PgResult::integer(int row, int column) const
{
	return is_null(row, column) ? 0 : std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

double PgResult::number(int row, int column) const
{
	return is_null(row, column) ? 0.0 : std::strtod(PQgetvalue(result_.get(), row, column), nullptr);
}

bool PgResult::boolean(int row, int column) const
{
	return !is_null(row, column) && PQgetvalue(result_.get(), row, column)[0] == 't';
}

long long PgResult::affected() const
{
	const char *tuples = PQcmdTuples(result_.get());
	return tuples[0] == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
}

PgConn::PgConn(const std::string &conninfo, const std::string &application_name,
               NoticeHandler on_notice)
	: conn_(nullptr, &PQfinish), on_notice_(std::move(on_notice))
{
	const char *keywords[] = {"dbname", "application_name", "connect_timeout", nullptr};
	const char *values[] = {conninfo.c_str(), application_name.c_str(), "10", nullptr};
	conn_.reset(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
	if (conn_ == nullptr)
		throw PgError("out of memory creating a connection", "08000");
	if (PQstatus(conn_.get()) != CONNECTION_OK) {
		std::string message = PQerrorMessage(conn_.get());
		while (!message.empty() && message.back() == '\n')
			message.pop_back();
		throw PgError("cannot connect: " + message, "08001");
	}
	PQsetNoticeReceiver(conn_.get(), &PgConn::receive_notice, this);
}

void PgConn::receive_notice(void *self, const PGresult *result)
{
	auto *conn = static_cast<PgConn *>(self);
	const char *text = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
	if (conn->on_notice_ && text != nullptr)
		conn->on_notice_(text);
}

PgResult PgConn::exec(const std::string &sql, const std::vector<Param> &params)
{
	if (conn_ == nullptr || PQstatus(conn_.get()) != CONNECTION_OK)
		throw PgError("the connection is closed", "08003");
	std::vector<const char *> values;
	values.reserve(params.size());
	for (const Param &p : params)
		values.push_back(p ? p->c_str() : nullptr);
	PGresult *raw = PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()),
	                             nullptr, values.data(), nullptr, nullptr, 0);
	if (raw == nullptr) {
		const bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
		throw PgError(PQerrorMessage(conn_.get()), lost ? "08006" : "53200");
	}
	PgResult result(raw);
	const ExecStatusType status = PQresultStatus(raw);
	if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
		return result;
	const char *sqlstate = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
	std::string message = primary != nullptr ? primary : PQerrorMessage(conn_.get());
	while (!message.empty() && message.back() == '\n')
		message.pop_back();
	std::string code = sqlstate != nullptr ? sqlstate : "";
	if (code.empty())
		code = PQstatus(conn_.get()) != CONNECTION_OK ? "08006" : "XX000";
	throw PgError(message, code);
}

int PgConn::backend_pid() const
{
	return conn_ == nullptr ? 0 : PQbackendPID(conn_.get());
}

void PgConn::abandon()
{
	conn_.reset();
}

Transaction::Transaction(PgConn &conn) : conn_(conn)
{
	conn_.exec("BEGIN");
}

Transaction::~Transaction()
{
	if (!open_)
		return;
	try {
		conn_.exec("ROLLBACK");
	} catch (const PgError &) {
		// The connection is gone: the server rolled back already.
	}
}

void Transaction::commit()
{
	open_ = false;
	conn_.exec("COMMIT");
}

void Transaction::rollback()
{
	open_ = false;
	conn_.exec("ROLLBACK");
}

std::string pg_text_array(const std::vector<std::string> &values)
{
	std::string out = "{";
	for (size_t i = 0; i < values.size(); ++i) {
		if (i > 0)
			out += ',';
		out += '"';
		for (char c : values[i]) {
			if (c == '"' || c == '\\')
				out += '\\';
			out += c;
		}
		out += '"';
	}
	return out + "}";
}

}  // namespace demo
