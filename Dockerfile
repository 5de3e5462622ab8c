# One image for every app; the command picks the app (see deploy/k8s, deploy/compose).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build --silent && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PORT=3000
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/deploy/migrations ./deploy/migrations
COPY --from=build /app/deploy/projections ./deploy/projections
# Read at run time: the web client, the SDK it loads, the admin page, the API reference page.
COPY --from=build /app/apps/web/public ./apps/web/public
COPY --from=build /app/libs/client/dist ./libs/client/dist
COPY --from=build /app/apps/api/admin-page ./apps/api/admin-page
COPY --from=build /app/apps/api/docs-page ./apps/api/docs-page
USER node
EXPOSE 3000
CMD ["node", "dist/apps/all-in-one/src/main.js"]
